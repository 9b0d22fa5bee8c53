#include "checkpoint_probe.hpp"

#include "test_paths.hpp"

#include "host/checkpoint/layout.hpp"
#include "host/checkpoint/load.hpp"
#include "host/core/host_api.hpp"
#include "host/plugin_host/registry.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <vector>

namespace fs = std::filesystem;
namespace host = megaswift::host;

namespace crash_test {
namespace {

const host::PluginRegistry& registry() {
  static host::PluginRegistry r = [] {
    host::PluginRegistry reg(host::host_api());
    reg.load_directories({megaswift::testing::plugin_dir()});
    return reg;
  }();
  return r;
}

void read_every_tensor(const host::CheckpointReader& reader) {
  std::vector<unsigned char> buffer;
  for (const host::StoredTensor& t : reader.tensors()) {
    int64_t n = 1;
    for (int64_t d : t.global_shape) n *= d;
    buffer.assign(static_cast<size_t>(n) * msw_dtype_size(t.dtype), 0);
    msw_tensor out{};
    out.data = buffer.data();
    out.device = {MSW_DEVICE_CPU, 0};
    out.dtype = t.dtype;
    msw_tensor_set_dense_shape(&out, static_cast<int32_t>(t.global_shape.size()), t.global_shape.data());
    const std::vector<int64_t> origin(t.global_shape.size(), 0);
    reader.read_region(t.key, origin, out);
  }
}

}  // namespace

ProbeResult probe_latest_checkpoint(const fs::path& save_dir) {
  ProbeResult r;
  r.exists = fs::exists(save_dir / host::kTrackerFile) || !host::iteration_dirs_on_disk(save_dir).empty();
  if (!r.exists) return r;
  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::err);  // the fallbacks' warnings belong to the resume's log, not the test's
  try {
    host::LoadOptions options;
    options.exit_on_missing = true;
    const auto ckpt = host::open_checkpoint(registry(), save_dir, options);
    read_every_tensor(*ckpt->reader);
    const nlohmann::json recorded = ckpt->common.value("iteration", nlohmann::json());
    if (recorded != nlohmann::json(ckpt->iteration))
      throw std::runtime_error(ckpt->dir.string() + " records iteration " + recorded.dump() + ", not " +
                               std::to_string(ckpt->iteration));
    r.loadable = true;
    r.iteration = ckpt->iteration;
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  spdlog::set_level(level);
  return r;
}

}  // namespace crash_test
