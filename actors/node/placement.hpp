#pragma once
// Where a multi-node run puts each table's stages (design section 11): a
// pure function, so that the spreading rule is tested on its own. Free of
// CAF.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace trib {

/// The worker (0 .. workers-1) of each table, given each table's estimated
/// rows: the largest table first, each to the worker with the fewest rows
/// so far (ties: the lower number), so that the rows spread as evenly as
/// whole tables allow. A table keeps all its stages -- its readers (every
/// split-key range), its applier, its writer -- on one worker, so that its
/// rows cross no node between reading and writing, and a lost worker loses
/// whole tables that can move elsewhere together. A table estimated at 0
/// rows counts as 1, so that empty tables spread too. No workers: all 0.
std::vector<size_t> place_tables(const std::vector<uint64_t>& estimated_rows, size_t workers);

/// After workers were lost (`alive[w]` false): every table of a lost worker
/// goes to a live one, the largest first, each to the live worker with the
/// fewest rows so far (counting the tables it kept); tables of live workers
/// stay where they are, so that nothing running moves. No live worker: the
/// placement unchanged (nothing can take the tables).
std::vector<size_t> replace_tables(const std::vector<uint64_t>& estimated_rows,
                                   const std::vector<size_t>& placement,
                                   const std::vector<bool>& alive);

/// The rows each worker got by `place_tables`'s answer.
std::vector<uint64_t> rows_per_worker(const std::vector<uint64_t>& estimated_rows,
                                      const std::vector<size_t>& placement, size_t workers);

}  // namespace trib
