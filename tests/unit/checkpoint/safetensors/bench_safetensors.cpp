// Throughput and peak RSS of the safetensors writer and reader on a synthetic bf16 model (not a test; built on
// demand: cmake --build build --target bench_safetensors).
//   bench_safetensors DIR [total_MB=2048] [tensor_MB=64] [max_shard=1GB]
// Writes total_MB of bf16 tensors (each tensor_MB, every other one as two TP halves to exercise assembly) into
// DIR, then reads every tensor back whole as bf16 and as f32, and prints MB/s and peak RSS.
#include "dtype.hpp"
#include "names.hpp"
#include "reader.hpp"
#include "shard_size.hpp"
#include "writer.hpp"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

long peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

msw_tensor view(void* p, int32_t dtype, std::vector<int64_t> shape) {
  msw_tensor t{};
  t.data = p;
  t.device = {MSW_DEVICE_CPU, 0};
  t.dtype = dtype;
  msw_tensor_set_dense_shape(&t, static_cast<int32_t>(shape.size()), shape.data());
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [total_MB] [tensor_MB] [max_shard]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const int64_t total_mb = argc > 2 ? std::atoll(argv[2]) : 2048, tensor_mb = argc > 3 ? std::atoll(argv[3]) : 64;
  const uint64_t max_shard = st::parse_shard_size(argc > 4 ? argv[4] : "1GB");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const int64_t cols = 4096, rows = tensor_mb * (1 << 20) / 2 / cols;
  std::vector<uint16_t> data(static_cast<size_t>(rows * cols));
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint16_t>(0x3C00 + (i * 7919) % 1024);
  const int64_t n = total_mb / tensor_mb;
  const uint64_t bytes = static_cast<uint64_t>(n) * data.size() * 2;

  double t0 = now();
  {
    st::WriterConfig cfg;
    cfg.dir = dir;
    cfg.max_shard_size = max_shard;
    cfg.first_file_metadata = {{st::kMetaCommonState, "{}"}};
    st::StreamingWriter w(cfg);
    for (int64_t k = 0; k < n; ++k) {
      const std::string key = "decoder.layers." + std::to_string(k) + ".mlp.linear_fc1.weight";
      if (k % 2) {  // two TP halves along dim 0
        for (int64_t h = 0; h < 2; ++h)
          w.add(key, {rows, cols}, {h * rows / 2, 0}, view(data.data() + h * rows / 2 * cols, MSW_DTYPE_BF16, {rows / 2, cols}));
      } else {
        w.add(key, {rows, cols}, {0, 0}, view(data.data(), MSW_DTYPE_BF16, {rows, cols}));
      }
    }
    w.finish();
  }
  const double write_s = now() - t0;
  std::printf("write: %.0f MB in %.2f s = %.0f MB/s (fsynced), peak RSS %ld MB\n", bytes / 1e6, write_s,
              bytes / 1e6 / write_s, peak_rss_mb());

  t0 = now();
  st::DirectoryReader r(dir);
  for (size_t i = 0; i < r.tensor_count(); ++i) {
    const st::TensorEntry& e = *r.tensor(i).entry;
    r.read_region(e.name, {0, 0}, view(data.data(), MSW_DTYPE_BF16, e.shape));
  }
  const double read_s = now() - t0;
  std::printf("read bf16: %.0f MB/s (page cache warm), peak RSS %ld MB\n", bytes / 1e6 / read_s, peak_rss_mb());
  std::vector<float> f(data.size());
  t0 = now();
  for (size_t i = 0; i < r.tensor_count(); ++i) {
    const st::TensorEntry& e = *r.tensor(i).entry;
    r.read_region(e.name, {0, 0}, view(f.data(), MSW_DTYPE_F32, e.shape));
  }
  const double conv_s = now() - t0;
  std::printf("read bf16 as f32: %.0f MB/s of stored bytes, peak RSS %ld MB\n", bytes / 1e6 / conv_s, peak_rss_mb());
  return 0;
}
