#pragma once
// The Redis writer's steps that live in files of their own, by purpose:
// the connection (writer_connect.cpp), cluster routing (writer_route.cpp),
// the memory pause (writer_memory.cpp), trimming (writer_trim.cpp), the
// consumer lag bound (writer_lag.cpp), the undo (writer_undo.cpp), and
// what they share with redis_writer.cpp. Internal to actors/sink; pulls in
// CAF through redis_writer.hpp, so include only from the writer's files.

#include <optional>
#include <string>
#include <vector>

#include "actors/sink/memory_gate.hpp"
#include "actors/sink/redis_client.hpp"
#include "actors/sink/redis_writer.hpp"

namespace trib {

// -- writer_connect.cpp: the connection -----------------------------------------

/// Connects (named, the lease watched, the user's rights and what Redis
/// acknowledged checked again); throws, leaving no client, when that fails.
void connect(redis_writer_state& st);

/// Throws while the lease is lost, or not known to be this run's.
void check_fence(const redis_writer_state& st);

// -- redis_writer.cpp ----------------------------------------------------------

/// Reads the replies of the write on the wire, if there is one, and
/// answers its sender.
void settle(redis_writer_state& st);

// -- writer_route.cpp: mode CLUSTER ---------------------------------------------

/// Makes st.client the connection (open or not yet) to the node that owns
/// `stream`, learning the slot map first when it is stale; the write on the
/// wire is settled before the node changes. Nothing in mode STANDALONE.
void route(redis_writer_state& st, const std::string& stream);

/// Before the first write to `stream` on this connection, in mode CLUSTER:
/// stamps the stream's lease copy (stamp_lease_copy).
void stamp_lease(redis_writer_state& st, const std::string& stream);

/// Whether `stream` lives on the node st.client is for (always on one server).
bool on_this_node(const redis_writer_state& st, const std::string& stream);

// -- writer_undo.cpp: the undo of a failed write and of a failed batch --------

/// Takes back what a write that failed inside its transaction applied
/// (`o`), the checkpoint first; entries it cannot delete are kept in
/// st.partial_in_doubt for the batch's undo. Throws when it cannot.
void undo_partial(redis_writer_state& st, const write_batch& b, const write_outcome& o);

/// Takes back a failed batch's committed writes: the checkpoint first, then
/// XDEL of the batch's entries; what could not be deleted is in the result.
undo_result undo_writes(redis_writer_state& st, const undo_request& u);

// -- writer_memory.cpp: memory backpressure ------------------------------------

/// INFO memory's reading; nullopt (and no more readings) when the user may
/// not run INFO or the reply lacks the fields.
std::optional<redis_memory> read_memory(redis_writer_state& st);

/// Whether `b` must wait because Redis is above the threshold (the reading,
/// when so). Reads INFO memory only when a reading is due, on an idle
/// connection; a connection that fails here is left for the send to meet.
std::optional<redis_memory> memory_over(redis_writer_state& st, const write_batch& b);

/// Starts a pause for `b` (logged once, counted in the metrics).
void begin_pause(redis_writer_state& st, const write_batch& b, const redis_memory& m);

/// Counts the paused time up to now.
void count_pause(redis_writer_state& st);

/// Ends a pause: "resumes" or "stops" writing, logged with its length.
void end_pause(redis_writer_state& st, const std::string& how);

/// Bytes in MB, rounded, for logs.
std::string megabytes(uint64_t bytes);

// -- writer_trim.cpp: trimming ---------------------------------------------------

/// After a commit of `added` entries to `stream` (the connection idle):
/// trims the stream when due (see redis_writer in redis_writer.hpp).
void trim_after(redis_writer_state& st, const std::string& stream, uint64_t added);

// -- writer_lag.cpp: the consumer lag bound -------------------------------------

/// After a commit of `added` entries to `stream`: reads its consumer groups'
/// lag when due, and holds the stream (an entry in st.held) when the
/// slowest lags more than max-consumer-lag.
void lag_after(redis_writer_state& st, const std::string& stream, uint64_t added);

/// Reads the lag of every held stream again: those whose slowest group no
/// longer lags more than max-consumer-lag (or whose lag cannot be read:
/// their writes then meet the failure), to be released.
std::vector<std::string> lag_released(redis_writer_state& st);

}  // namespace trib
