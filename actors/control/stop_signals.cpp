#include "actors/control/stop_signals.hpp"

#include <cerrno>
#include <csignal>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace trib {

namespace {

// The handler may only touch these (async-signal-safe): an atomic flag, the
// signal's number and a write to a pipe that wakes the watcher thread.
std::atomic<bool> stop_flag{false};
std::atomic<int> stop_signal{0};
int wake_pipe[2] = {-1, -1};

constexpr char wake_stop = 's';
constexpr char wake_quit = 'q';

void wake(char c) {
  if (wake_pipe[1] < 0) return;
  int saved = errno;
  ssize_t n = ::write(wake_pipe[1], &c, 1);
  (void)n;  // a full pipe already holds a wake-up
  errno = saved;
}

extern "C" void on_stop_signal(int sig) {
  // A second signal does not wait for the drain: it ends the process as the
  // signal's default action does (the checkpoints make --resume exact even
  // then). The signal is blocked while this handler runs, so it lands as
  // soon as the handler returns.
  if (stop_signal.exchange(sig) != 0) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, nullptr);
    raise(sig);
    return;
  }
  stop_flag.store(true);
  wake(wake_stop);
}

struct watcher_state {
  std::mutex mtx;
  std::function<void()> callback;
  bool called = false;
  std::thread thread;
  struct sigaction old_int {};
  struct sigaction old_term {};
};

watcher_state* current = nullptr;

// Runs the callback once per stop, wherever it is installed from.
void fire(watcher_state& w) {
  std::function<void()> f;
  {
    std::lock_guard<std::mutex> guard{w.mtx};
    if (w.called || !w.callback) return;
    w.called = true;
    f = w.callback;
  }
  f();
}

void watch(watcher_state* w) {
  for (;;) {
    pollfd p{wake_pipe[0], POLLIN, 0};
    if (::poll(&p, 1, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    char c = 0;
    ssize_t n = ::read(wake_pipe[0], &c, 1);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0 || c == wake_quit) return;
    fire(*w);
  }
}

}  // namespace

stop_signals::stop_signals() {
  stop_flag.store(false);
  stop_signal.store(0);
  current = new watcher_state;
  if (::pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
    // The reading end blocks in poll(), not in read().
    current->thread = std::thread(watch, current);
  } else {
    wake_pipe[0] = wake_pipe[1] = -1;
  }
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &current->old_int);
  sigaction(SIGTERM, &sa, &current->old_term);
}

stop_signals::~stop_signals() {
  sigaction(SIGINT, &current->old_int, nullptr);
  sigaction(SIGTERM, &current->old_term, nullptr);
  if (current->thread.joinable()) {
    wake(wake_quit);
    current->thread.join();
  }
  for (int& fd : wake_pipe) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  delete current;
  current = nullptr;
}

void stop_signals::on_stop(std::function<void()> f) {
  {
    std::lock_guard<std::mutex> guard{current->mtx};
    current->callback = std::move(f);
    current->called = false;
  }
  if (stop_flag.load()) fire(*current);
}

bool stop_signals::requested() const { return stop_flag.load(); }

const std::atomic<bool>& stop_signals::flag() const { return stop_flag; }

int stop_signals::signal() const { return stop_signal.load(); }

void stop_signals::request() {
  stop_flag.store(true);
  wake(wake_stop);
}

int exit_code_for_stop(int sig) { return 128 + (sig > 0 ? sig : SIGTERM); }

const char* stop_signal_name(int sig) {
  if (sig == SIGINT) return "SIGINT";
  if (sig == SIGTERM) return "SIGTERM";
  return "a stop request";
}

}  // namespace trib
