#pragma once
// What a change reader (the WAL reader, the binlog reader) does when its
// source connection fails, the same for both: the source's retry policy
// (actors/control/retry_policy.hpp) decides; to retry, the reader forgets
// its connection and what it has not sent, the dispatcher resets (what it
// was handed gets written) and answers its release position, and the reader
// reads again, from there, after the policy's wait. Include only from the
// readers' .cpp files (pulls in CAF).

#include <string>

#include "actors/actors.hpp"
#include "actors/control/retry_policy.hpp"
#include "actors/log.hpp"
#include "actors/metrics/metrics.hpp"
#include "messages/failure.hpp"

namespace trib {

/// After the source failed with `e` (the reader's `failures`-th failure in
/// a row, counted here): when `policy` gives up, calls give_up(failure).
/// Otherwise counts the retry, logs that `connection` was lost, calls
/// forget() (drop the connection and the unsent feed, mark the reader as
/// reconnecting and its read as pending), asks the dispatcher to reset, hands
/// its answer to released(position) and sends the reader read_atom after the
/// wait; a failed reset gives up.
template <class Self, class Forget, class Released, class GiveUp>
void retry_source(Self self, const change_dispatcher_actor& dispatcher,
                  const retry_policy& policy, int& failures, const error& e,
                  const std::string& connection, Forget forget, Released released,
                  GiveUp give_up) {
  auto d = policy.next(++failures, e.code());
  if (!d.retry) {
    give_up(e.to_failure());
    return;
  }
  metrics::add_retry(to_string(e.code()));
  log::warn("loses the " + connection + " (" + std::string(to_string(e.code())) + "): " +
            e.what() + "; reconnects in " + std::to_string(d.wait.count()) + " ms (attempt " +
            std::to_string(failures) + " of " + std::to_string(policy.max_retries) + ")");
  forget();
  auto wait = d.wait;
  self->request(dispatcher, caf::infinite, reset_atom::value)
    .then(
      [=](uint64_t position) {
        released(position);
        self->delayed_send(self, wait, read_atom::value);
      },
      [=](caf::error& err) { give_up(to_failure(err)); });
}

}  // namespace trib
