#include "actors/node/placement.hpp"

#include <algorithm>
#include <numeric>

namespace trib {

namespace {

uint64_t weight(uint64_t rows) { return std::max<uint64_t>(rows, 1); }

}  // namespace

std::vector<size_t> place_tables(const std::vector<uint64_t>& estimated_rows, size_t workers) {
  std::vector<size_t> placement(estimated_rows.size(), 0);
  if (workers <= 1) return placement;
  std::vector<size_t> order(estimated_rows.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Largest first; equal sizes keep plan order, so a placement is repeatable.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return weight(estimated_rows[a]) > weight(estimated_rows[b]);
  });
  std::vector<uint64_t> load(workers, 0);
  for (auto t : order) {
    auto least = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    placement[t] = least;
    load[least] += weight(estimated_rows[t]);
  }
  return placement;
}

std::vector<size_t> replace_tables(const std::vector<uint64_t>& estimated_rows,
                                   const std::vector<size_t>& placement,
                                   const std::vector<bool>& alive) {
  auto live = [&](size_t w) { return w < alive.size() && alive[w]; };
  if (std::none_of(alive.begin(), alive.end(), [](bool a) { return a; })) return placement;
  std::vector<uint64_t> load(alive.size(), 0);
  std::vector<size_t> moving;
  for (size_t t = 0; t < placement.size(); ++t) {
    auto rows = t < estimated_rows.size() ? weight(estimated_rows[t]) : 1;
    if (live(placement[t]))
      load[placement[t]] += rows;
    else
      moving.push_back(t);
  }
  auto rows_of = [&](size_t t) {
    return t < estimated_rows.size() ? weight(estimated_rows[t]) : uint64_t{1};
  };
  std::stable_sort(moving.begin(), moving.end(),
                   [&](size_t a, size_t b) { return rows_of(a) > rows_of(b); });
  auto out = placement;
  for (auto t : moving) {
    size_t least = alive.size();
    for (size_t w = 0; w < alive.size(); ++w)
      if (live(w) && (least == alive.size() || load[w] < load[least])) least = w;
    out[t] = least;
    load[least] += rows_of(t);
  }
  return out;
}

std::vector<uint64_t> rows_per_worker(const std::vector<uint64_t>& estimated_rows,
                                      const std::vector<size_t>& placement, size_t workers) {
  std::vector<uint64_t> rows(std::max<size_t>(workers, 1), 0);
  for (size_t t = 0; t < placement.size() && t < estimated_rows.size(); ++t)
    rows.at(placement[t]) += estimated_rows[t];
  return rows;
}

}  // namespace trib
