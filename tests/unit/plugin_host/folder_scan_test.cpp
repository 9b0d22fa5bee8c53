// Scanning plugin folders: nothing in a folder (a symlink loop, a FIFO, a broken file) ends the scan; each
// plugin-named entry that cannot be loaded is refused with its path and the reason, the healthy ones load.
#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/plugin_host/registry.hpp"
#include "plugin_host_test_support.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <string>

using namespace megaswift::plugin_host_test;
using megaswift::host::HostError;
using megaswift::host::PluginRegistry;

namespace {

const megaswift::host::RefusedLibrary* refusal_of(const PluginRegistry& registry, const fs::path& path) {
  for (const auto& r : registry.refused())
    if (r.library_path == path) return &r;
  return nullptr;
}

}  // namespace

TEST_CASE("symlink loops in a plugin folder are skipped naming them while the healthy plugin loads") {
  const fs::path dir = fresh_dir("loops");
  fs::copy_file(kTinyPlugin, dir / kTinyPlugin.filename());
  fs::create_symlink("libmegaswift_model_self.so", dir / "libmegaswift_model_self.so");  // points at itself
  fs::create_symlink("libmegaswift_model_pong.so", dir / "libmegaswift_model_ping.so");  // ping -> pong -> ping
  fs::create_symlink("libmegaswift_model_ping.so", dir / "libmegaswift_model_pong.so");
  fs::create_symlink("loop", dir / "loop");  // not a plugin name: not looked at
  PluginRegistry registry(megaswift::host::host_api());
  CHECK_NOTHROW(registry.load_directories({dir}));
  CHECK(registry.find(MSW_KIND_OPTIMIZER, "tiny_opt") != nullptr);
  CHECK(registry.refused().size() == 3);
  for (const char* name : {"libmegaswift_model_self.so", "libmegaswift_model_ping.so", "libmegaswift_model_pong.so"}) {
    const auto* r = refusal_of(registry, dir / name);
    REQUIRE_MESSAGE(r != nullptr, name);
    CHECK(contains(r->reason, (dir / name).string() + ": not a loadable shared library: it is a symbolic link that "
                                                      "loops (Too many levels of symbolic links)"));
  }
}

TEST_CASE("a FIFO named like a plugin in a folder is refused as a FIFO and the scan goes on") {
  const fs::path dir = fresh_dir("fifo_in_folder");
  fs::copy_file(kTinyPlugin, dir / kTinyPlugin.filename());
  REQUIRE(::mkfifo((dir / "libmegaswift_model_fifo.so").c_str(), 0600) == 0);
  PluginRegistry registry(megaswift::host::host_api());
  CHECK_NOTHROW(registry.load_directories({dir}));
  CHECK(registry.find(MSW_KIND_OPTIMIZER, "tiny_opt") != nullptr);
  const auto* r = refusal_of(registry, dir / "libmegaswift_model_fifo.so");
  REQUIRE(r != nullptr);
  CHECK(contains(r->reason, "it is a FIFO (named pipe), not a regular file"));
}

TEST_CASE("truncated and empty plugins in a folder are refused one by one and the healthy plugin loads") {
  const fs::path dir = fresh_dir("mixed");
  fs::copy_file(kTinyPlugin, dir / kTinyPlugin.filename());
  const std::string whole = read_bytes(kChatTemplates);
  write_bytes(dir / "libmegaswift_template_half.so", whole.substr(0, whole.size() / 2));
  write_bytes(dir / "libmegaswift_template_empty.so", "");
  PluginRegistry registry(megaswift::host::host_api());
  CHECK_NOTHROW(registry.load_directories({dir}));
  CHECK(registry.find(MSW_KIND_OPTIMIZER, "tiny_opt") != nullptr);
  CHECK(registry.refused().size() == 2);
  const auto* half = refusal_of(registry, dir / "libmegaswift_template_half.so");
  const auto* empty = refusal_of(registry, dir / "libmegaswift_template_empty.so");
  REQUIRE(half != nullptr);
  REQUIRE(empty != nullptr);
  CHECK(contains(half->reason, "it is truncated"));
  CHECK(contains(empty->reason, "it is empty (0 bytes)"));
}

TEST_CASE("a --plugin_path that is a symlink loop is an error naming it; from elsewhere it is skipped") {
  const fs::path loop = fresh_dir("loop_dir") / "plugins";
  fs::create_symlink("plugins", loop);
  PluginRegistry registry(megaswift::host::host_api());
  CHECK_THROWS_WITH_AS(registry.load_directories({loop}, 1),
                       doctest::Contains(("--plugin_path " + loop.string() +
                                          ": cannot be read (Too many levels of symbolic links)").c_str()),
                       HostError);
  CHECK_NOTHROW(registry.load_directories({loop}, 0));
  CHECK(registry.all().empty());
}

TEST_CASE("a FIFO given as --plugin_path is refused as a FIFO, not reported missing") {
  const fs::path fifo = fresh_dir("fifo_path") / "libmegaswift_model_fifo.so";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  PluginRegistry registry(megaswift::host::host_api());
  CHECK_NOTHROW(registry.load_directories({fifo}, 1));
  REQUIRE(registry.refused().size() == 1);
  CHECK(contains(registry.refused()[0].reason, "it is a FIFO (named pipe), not a regular file"));
}
