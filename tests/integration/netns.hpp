#pragma once
// Hosts of a test's own on this machine: network namespaces, each linked to
// the root namespace by a veth pair on a /30 of its own (10.A.B.4i+1 on the
// root side, 10.A.B.4i+2 inside, A.B from this process's id so that
// parallel runs do not meet). Traffic between them stays on this machine.
// A test cuts a host off by taking its link down (no FIN, no RST: what a
// pulled cable or a partition looks like) and mends it by bringing it up.
// Everything is removed when the lab goes out of scope, also after a failed
// assertion; a lab left behind by a crashed run (its process is gone) is
// removed by the next lab that starts. Needs root, iproute2 and (for
// reach_root_port) socat.

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace trib::test {

class netns_lab {
public:
  struct host {
    std::string ns;       // ip netns name
    std::string link;     // the veth end in the root namespace
    std::string address;  // this host's address (inside its namespace)
    std::string gateway;  // the root namespace's address on this link
  };

  /// Whether this process may make namespaces (root); a test skips without.
  static bool allowed() { return ::geteuid() == 0; }

  explicit netns_lab(size_t hosts) {
    sweep_leftovers();
    int pid = ::getpid();
    std::string net = "10." + std::to_string(128 + ((pid >> 8) & 0x7f)) + "." +
                      std::to_string(pid & 0xff) + ".";
    for (size_t i = 0; i < hosts; ++i) {
      host h;
      h.ns = prefix() + std::to_string(pid) + "-" + std::to_string(i);
      // Interface names have at most 15 characters.
      std::string id = std::to_string(pid % 10000000) + "x" + std::to_string(i);
      h.link = "tr" + id;
      std::string inner = "tn" + id;
      h.gateway = net + std::to_string(4 * i + 1);
      h.address = net + std::to_string(4 * i + 2);
      hosts_.push_back(h);  // before the commands: the destructor removes it
      run("ip netns add " + h.ns);
      run("ip link add " + h.link + " type veth peer name " + inner);
      run("ip link set " + inner + " netns " + h.ns);
      run("ip addr add " + h.gateway + "/30 dev " + h.link);
      run("ip link set " + h.link + " up");
      run("ip -n " + h.ns + " addr add " + h.address + "/30 dev " + inner);
      run("ip -n " + h.ns + " link set " + inner + " up");
      run("ip -n " + h.ns + " link set lo up");
      // Other hosts' addresses lie behind the root namespace.
      run("ip -n " + h.ns + " route add default via " + h.gateway);
    }
  }

  ~netns_lab() {
    for (auto pid : relays_) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    for (auto& h : hosts_) remove(h);
    std::error_code ec;
    if (!relay_dir_.empty()) std::filesystem::remove_all(relay_dir_, ec);
  }

  /// Makes 127.0.0.1:`port` inside every host reach 127.0.0.1:`port` of the
  /// root namespace, where the servers of ops/servers.sh listen (on
  /// loopback only): in each namespace socat takes the connections and
  /// passes them over a Unix socket to socat in the root namespace, which
  /// connects to the server. So the connection files a coordinator sends
  /// its workers work unchanged behind their links; the relays add a copy
  /// each way, and a cut link does not cut them (the database and Redis
  /// stay reachable, as they do for a node cut off from its peers only).
  void reach_root_port(uint16_t port) {
    if (relay_dir_.empty()) {
      relay_dir_ = "/tmp/" + prefix() + std::to_string(::getpid());
      std::filesystem::create_directories(relay_dir_);
    }
    auto sock = relay_dir_ + "/" + std::to_string(port) + ".sock";
    relays_.push_back(start({"socat", "UNIX-LISTEN:" + sock + ",fork,unlink-early",
                             "TCP:127.0.0.1:" + std::to_string(port) + ",nodelay"}, ""));
    wait_for([&] { return std::filesystem::exists(sock); }, "the relay socket " + sock);
    for (auto& h : hosts_) {
      relays_.push_back(start({"socat",
                               "TCP-LISTEN:" + std::to_string(port) + ",bind=127.0.0.1,reuseaddr,fork,nodelay",
                               "UNIX-CONNECT:" + sock}, h.ns));
      auto probe = "ip netns exec " + h.ns + " bash -c 'exec 3<>/dev/tcp/127.0.0.1/" +
                   std::to_string(port) + "' 2>/dev/null";
      wait_for([&] { return std::system(probe.c_str()) == 0; },
               "the relay of port " + std::to_string(port) + " in " + h.ns);
    }
  }

  netns_lab(const netns_lab&) = delete;
  netns_lab& operator=(const netns_lab&) = delete;

  const host& operator[](size_t i) const { return hosts_.at(i); }
  size_t size() const { return hosts_.size(); }

  /// Cuts host `i` off: its link goes down, packets are dropped silently.
  void cut(size_t i) { run("ip link set " + hosts_.at(i).link + " down"); }
  /// Brings host `i`'s link back.
  void mend(size_t i) { run("ip link set " + hosts_.at(i).link + " up"); }

  /// Runs `work` in a child process inside host `i`'s namespace (as `ip
  /// netns exec` would) and returns the child's pid; its exit code is what
  /// `work` returns. Fork before this process starts threads of its own
  /// (an actor system): the child has only the forking thread.
  pid_t spawn_in(size_t i, const std::function<int()>& work) const {
    auto path = "/run/netns/" + hosts_.at(i).ns;
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid > 0) return pid;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
      std::fprintf(stderr, "netns_lab: cannot enter %s\n", path.c_str());
      ::_exit(120);
    }
    ::close(fd);
    int rc = 121;
    try {
      rc = work();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "netns_lab: child in %s threw: %s\n", path.c_str(), e.what());
    }
    std::fflush(nullptr);
    ::_exit(rc);
  }

  /// Waits up to `deadline` for child `pid` and returns its exit code
  /// (128 + signal for a signal); -1 when it is still running then.
  static int wait_child(pid_t pid, std::chrono::milliseconds deadline) {
    auto until = std::chrono::steady_clock::now() + deadline;
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
      int status = 0;
      pid_t got = ::waitpid(pid, &status, WNOHANG);
      if (got == pid)
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (got < 0 || std::chrono::steady_clock::now() >= until) return -1;
      std::this_thread::sleep_for(pause);  // backoff between polls
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
  }

private:
  static std::string prefix() { return "tribt-"; }

  // Starts argv (in namespace `ns` unless "") and returns its pid.
  static pid_t start(const std::vector<std::string>& args, const std::string& ns) {
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid > 0) return pid;
    if (!ns.empty()) {
      int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) ::_exit(126);
      ::close(fd);
    }
    std::vector<char*> argv;
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }

  static void wait_for(const std::function<bool()>& ready, const std::string& what) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto pause = std::chrono::milliseconds(1);
    while (!ready()) {
      if (std::chrono::steady_clock::now() >= until)
        throw std::runtime_error("netns_lab: " + what + " is not up after 10 s (socat installed?)");
      std::this_thread::sleep_for(pause);  // backoff between polls
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
  }

  static void run(const std::string& cmd) {
    if (std::system((cmd + " 2>&1").c_str()) != 0)
      throw std::runtime_error("netns_lab: '" + cmd + "' failed");
  }

  static void remove(const host& h) {
    // Deleting the namespace deletes the veth pair with it; the root end
    // goes too when it is left over from a half-built lab.
    std::system(("ip netns del " + h.ns + " > /dev/null 2>&1").c_str());
    std::system(("ip link del " + h.link + " > /dev/null 2>&1").c_str());
  }

  // tribt-PID-I whose PID no longer runs.
  static void sweep_leftovers() {
    std::error_code ec;
    for (auto& e : std::filesystem::directory_iterator("/run/netns", ec)) {
      auto name = e.path().filename().string();
      if (name.rfind(prefix(), 0) != 0) continue;
      auto rest = name.substr(prefix().size());
      auto dash = rest.find('-');
      if (dash == std::string::npos) continue;
      int pid = std::atoi(rest.substr(0, dash).c_str());
      if (pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
      host h;
      h.ns = name;
      h.link = "tr" + std::to_string(pid % 10000000) + "x" + rest.substr(dash + 1);
      remove(h);
    }
  }

  std::vector<host> hosts_;
  std::vector<pid_t> relays_;
  std::string relay_dir_;
};

}  // namespace trib::test
