// "rawdir": the test-double checkpoint format the core's tests drive through the real registry. Each shard is a
// raw file (r<rank>_<n>.bin, the shard's bytes as given), each rank records its shards in index_r<rank>.json,
// and commit_save merges them with the common state into index.json on the coordinator. read_region copies the
// intersection of every stored shard with the region, so any saved split loads into any other.
//
// Failure injection for the atomic-save tests: with MSW_RAWDIR_FAIL_AT_KEY=<key> the write of that shard fails
// after the shards before it were written, as a crash in the middle of a save would.
#include <megaswift/sdk/checkpoint.hpp>
#include <megaswift/sdk/plugin.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;
using megaswift::sdk::Error;
using nlohmann::json;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error(MSW_STATUS_IO, "rawdir: cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void spill(const fs::path& p, const void* data, size_t n) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  if (!out) throw Error(MSW_STATUS_IO, "rawdir: cannot write " + p.string());
}

int64_t numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t v : s) n *= v;
  return n;
}

float load_float(const char* p, int32_t dtype) {
  if (dtype == MSW_DTYPE_F32) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p, 2);
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

void store_float(float f, char* p, int32_t dtype) {
  if (dtype == MSW_DTYPE_F32) {
    std::memcpy(p, &f, 4);
    return;
  }
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint16_t h = (bits & 0x7fffffffu) > 0x7f800000u ? static_cast<uint16_t>((bits >> 16) | 0x40)  // quiet NaN
                                                  : static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1)) >> 16);
  std::memcpy(p, &h, 2);
}

class RawWriter : public megaswift::sdk::CheckpointWriter {
 public:
  explicit RawWriter(megaswift::sdk::SaveArgs a) : args_(std::move(a)) {}
  void write(const std::vector<megaswift::sdk::Shard>& shards) override {
    const char* fail = std::getenv("MSW_RAWDIR_FAIL_AT_KEY");
    for (size_t i = 0; i < shards.size(); ++i) {
      const auto& s = shards[i];
      if (fail && s.key == fail) throw Error(MSW_STATUS_IO, "rawdir: injected failure writing " + s.key);
      if (s.replica_id != 0) continue;
      if (!msw_tensor_is_contiguous(&s.data)) throw Error(MSW_STATUS_INVALID_ARGUMENT, "rawdir: " + s.key + " is not dense");
      const std::string file = "r" + std::to_string(args_.rank) + "_" + std::to_string(count_++) + ".bin";
      const std::vector<int64_t> shape(s.data.shape, s.data.shape + s.data.ndim);
      spill(fs::path(args_.dir) / file, static_cast<const char*>(s.data.data) + s.data.byte_offset,
            static_cast<size_t>(numel(shape)) * msw_dtype_size(s.data.dtype));
      index_.push_back({{"key", s.key}, {"dtype", s.data.dtype}, {"global_shape", s.global_shape},
                        {"offset", s.global_offset}, {"shape", shape}, {"file", file}});
    }
  }
  void finish() override {
    const std::string text = index_.dump();
    spill(fs::path(args_.dir) / ("index_r" + std::to_string(args_.rank) + ".json"), text.data(), text.size());
  }

 private:
  megaswift::sdk::SaveArgs args_;
  json index_ = json::array();
  int count_ = 0;
};

class RawReader : public megaswift::sdk::CheckpointReader {
 public:
  explicit RawReader(fs::path dir) : dir_(std::move(dir)) {
    json index;
    try {
      index = json::parse(slurp(dir_ / "index.json"));
    } catch (const json::exception& e) {
      throw Error(MSW_STATUS_INVALID_ARGUMENT, "rawdir: " + (dir_ / "index.json").string() + " is not JSON: " + e.what());
    }
    common_ = index.at("common").get<std::string>();
    for (const json& s : index.at("shards")) {
      auto& t = tensors_[s.at("key").get<std::string>()];
      t.info.key = s.at("key").get<std::string>();
      t.info.dtype = s.at("dtype").get<int32_t>();
      t.info.global_shape = s.at("global_shape").get<std::vector<int64_t>>();
      t.shards.push_back(s);
    }
    for (auto& [k, t] : tensors_) order_.push_back(&t);
  }
  std::string common_state_json() const override { return common_; }
  size_t tensor_count() const override { return order_.size(); }
  megaswift::sdk::TensorInfo tensor_info(size_t i) const override { return order_.at(i)->info; }

  void read_region(const std::string& key, const std::vector<int64_t>& offset, const msw_tensor& out) override {
    auto it = tensors_.find(key);
    if (it == tensors_.end()) throw Error(MSW_STATUS_NOT_FOUND, "rawdir: no tensor " + key);
    const Tensor& t = it->second;
    const int32_t nd = out.ndim;
    if (nd != static_cast<int32_t>(t.info.global_shape.size()))
      throw Error(MSW_STATUS_SHAPE_MISMATCH, "rawdir: " + key + ": region rank differs");
    const std::vector<int64_t> rshape(out.shape, out.shape + nd);
    int64_t covered = 0;
    for (const json& s : t.shards) {
      const auto soff = s.at("offset").get<std::vector<int64_t>>();
      const auto sshape = s.at("shape").get<std::vector<int64_t>>();
      std::vector<int64_t> lo(nd), hi(nd);
      bool empty = false;
      for (int32_t d = 0; d < nd; ++d) {
        lo[d] = std::max(offset[d], soff[d]);
        hi[d] = std::min(offset[d] + rshape[d], soff[d] + sshape[d]);
        empty |= lo[d] >= hi[d];
      }
      if (empty) continue;
      const std::string bytes = slurp(dir_ / s.at("file").get<std::string>());
      const int32_t sd = s.at("dtype").get<int32_t>();
      const size_t ss = msw_dtype_size(sd), os = msw_dtype_size(out.dtype);
      if (bytes.size() != static_cast<size_t>(numel(sshape)) * ss)
        throw Error(MSW_STATUS_IO, "rawdir: " + s.at("file").get<std::string>() + " has the wrong size");
      std::vector<int64_t> idx(lo);
      std::vector<int64_t> sstr(nd, 1);
      for (int32_t d = nd - 2; d >= 0; --d) sstr[d] = sstr[d + 1] * sshape[d + 1];
      while (true) {
        int64_t src = 0, dst = 0;
        for (int32_t d = 0; d < nd; ++d) {
          src += (idx[d] - soff[d]) * sstr[d];
          dst += (idx[d] - offset[d]) * out.strides[d];
        }
        const char* sp = bytes.data() + src * ss;
        char* dp = static_cast<char*>(out.data) + out.byte_offset + dst * os;
        if (sd == out.dtype) std::memcpy(dp, sp, ss);
        else store_float(load_float(sp, sd), dp, out.dtype);
        ++covered;
        int32_t d = nd - 1;
        for (; d >= 0; --d) {
          if (++idx[d] < hi[d]) break;
          idx[d] = lo[d];
        }
        if (d < 0) break;
      }
    }
    if (covered != numel(rshape))
      throw Error(MSW_STATUS_NOT_FOUND, "rawdir: " + key + ": the stored shards do not cover the region");
  }

 private:
  struct Tensor {
    megaswift::sdk::TensorInfo info;
    std::vector<json> shards;
  };
  fs::path dir_;
  std::string common_;
  std::map<std::string, Tensor> tensors_;
  std::vector<const Tensor*> order_;
};

class RawFormat : public megaswift::sdk::CheckpointFormat {
 public:
  explicit RawFormat(std::string_view) {}
  int32_t probe(const std::string& dir) override {
    std::error_code ec;
    return fs::is_regular_file(fs::path(dir) / "index.json", ec) ? 90 : 0;
  }
  std::unique_ptr<megaswift::sdk::CheckpointWriter> begin_save(const megaswift::sdk::SaveArgs& a) override {
    return std::make_unique<RawWriter>(a);
  }
  void commit_save(const megaswift::sdk::SaveArgs& a) override {
    if (!a.is_coordinator()) return;
    json shards = json::array();
    for (int32_t r = 0; r < a.world_size; ++r)
      for (json& s : json::parse(slurp(fs::path(a.dir) / ("index_r" + std::to_string(r) + ".json")))) shards.push_back(s);
    const std::string text = json{{"common", a.common_state_json}, {"shards", shards}}.dump();
    spill(fs::path(a.dir) / "index.json", text.data(), text.size());
  }
  std::unique_ptr<megaswift::sdk::CheckpointReader> open(const megaswift::sdk::OpenArgs& a) override {
    return std::make_unique<RawReader>(a.dir);
  }
};

}  // namespace

MEGASWIFT_PLUGIN("rawdir_test", "1.0",
                 megaswift::sdk::checkpoint_component<RawFormat>("rawdir", "1.0",
                                                                 "test double: raw shard files and a JSON index"))
