#include "plugin_host_test_support.hpp"

#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/plugin_host/registry.hpp"
#include "scratch_dir.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace megaswift::plugin_host_test {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = megaswift::testing::scratch_dir("megaswift_plugin_host") / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

namespace {

void write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

ChildLoad load_in_child(const fs::path& path) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    ::alarm(20);
    std::string report;
    try {
      host::PluginRegistry registry(host::host_api());
      registry.load_library(path);
      report = "L";
    } catch (const host::HostError& e) {
      report = std::string("E") + e.what();
    } catch (const std::exception& e) {
      report = std::string("X") + e.what();  // anything but a HostError is a failure of the test
    }
    write_all(fds[1], report);
    ::_exit(0);  // no doctest reporting, no static destructors in the child
  }
  ::close(fds[1]);
  std::string report;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) report.append(buffer, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ChildLoad out;
  out.exited = WIFEXITED(status);
  out.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  out.loaded = report == "L";
  if (!report.empty() && report[0] != 'L') out.message = report.substr(report[0] == 'E' ? 1 : 0);
  return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace megaswift::plugin_host_test
