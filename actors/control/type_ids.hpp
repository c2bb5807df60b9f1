#pragma once
// Registration of every message type with CAF, so that values can cross a
// node boundary and show up readably in CAF's diagnostics.

namespace caf {
class actor_system_config;
}

namespace trib {

/// Adds every messages/ type (and the vectors that travel) to `cfg`, plus the
/// error category of trib::failure. Call before the actor_system exists.
void register_message_types(caf::actor_system_config& cfg);

/// The configuration every run uses: message types registered, as many
/// scheduler threads as cores (at least 2; blocking work runs in detached
/// actors), the sharing policy (idle workers wait instead of polling), CAF's
/// own logger quiet. Returns `cfg`.
caf::actor_system_config& configure_actor_system(caf::actor_system_config& cfg);

}  // namespace trib
