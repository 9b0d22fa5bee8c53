// Writes the seed inputs that no fixture provides (fuzz/corpus/{pickle,zip,dcp_metadata,zarray,hdf5_attrs}),
// with the product's own writers, so each seed is a file the reader must accept. Run once when a writer
// changes: fuzz_make_seeds <fuzz/corpus>. The outputs are committed; fuzz.sh does not run this.
#include "common_state.hpp"
#include "dcp_metadata.hpp"
#include "h5.hpp"
#include "io.hpp"
#include "pickle.hpp"
#include "plugins/zarr/src/zarray.hpp"
#include "torch_save.hpp"
#include "zip.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

void put(const fs::path& file, const std::string& bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << bytes;
}

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void pickles(const fs::path& out) {
  using torchfmt::Json;
  const Json common = {{"iteration", 7},
                       {"args", {{"lr", 1e-5}, {"seq_length", 128}, {"bf16", true}, {"model", "qwen2"}}},
                       {"checkpoint_version", 3.0},
                       {"rng_state", Json::array({1, 2, 3})},
                       {"note", nullptr}};
  torchfmt::PickleWriter w;
  torchfmt::pickle_json(w, common, true);
  w.stop();
  put(out / "pickle" / "common_state.pkl", w.bytes_out());

  torchfmt::PickleWriter t;
  torchfmt::pickle_tensor(t, MSW_DTYPE_BF16, {2, 3}, "0");
  t.stop();
  put(out / "pickle" / "tensor.pkl", t.bytes_out());
}

void zips(const fs::path& out) {
  torchfmt::PickleWriter t;
  t.empty_dict();
  t.mark();
  t.str("weight");
  torchfmt::pickle_tensor(t, MSW_DTYPE_F32, {2, 2}, "0");
  t.setitems();
  t.stop();
  const float weights[4] = {1, 2, 3, 4};
  const fs::path tmp = fs::temp_directory_path() / "msw_seed.pt";
  for (bool zip64 : {false, true}) {
    {
      torchfmt::OutFile f(tmp.string());
      torchfmt::ZipWriter z(f, zip64);
      torchfmt::write_archive_head(z, "archive", t.bytes_out());
      z.add("archive/data/0", weights, sizeof weights);
      torchfmt::write_archive_tail(z, "archive");
      z.finish();
      f.close(false);
    }
    put(out / "zip" / (zip64 ? "model_zip64.pt" : "model.pt"), slurp(tmp));
  }
  fs::remove(tmp);
}

void dcp(const fs::path& out) {
  torchfmt::DcpMetadata m;
  torchfmt::DcpTensor t{"decoder.layers.self_attention.linear_qkv.weight", MSW_DTYPE_BF16, {2, 4, 8}, {}};
  t.chunks.push_back({{0, 0, 0}, {1, 4, 8}, {"__0_0.distcp", 0, 64}});
  t.chunks.push_back({{1, 0, 0}, {1, 4, 8}, {"__0_0.distcp", 64, 64}});
  m.tensors.push_back(t);
  m.bytes.push_back({"optimizer.state", {"__0_0.distcp", 128, 16}});
  put(out / "dcp_metadata" / "written.metadata", torchfmt::write_dcp_metadata(m));
}

void zarrays(const fs::path& out) {
  using megaswift::zarr::zarray_text;
  put(out / "zarray" / "f32_2d.zarray", zarray_text({4, 6}, {2, 6}, MSW_DTYPE_F32));
  put(out / "zarray" / "bf16_3d.zarray", zarray_text({2, 3, 4}, {1, 3, 4}, MSW_DTYPE_BF16));
  put(out / "zarray" / "scalar_i64.zarray", zarray_text({}, {}, MSW_DTYPE_I64));
}

void hdf5(const fs::path& out) {
  using namespace megaswift::hdf5;
  const fs::path path = out / "hdf5_attrs" / "rank_0.h5";
  fs::create_directories(path.parent_path());
  fs::remove(path);
  const std::string p = path.string();
  {
    Handle file = check_file(H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), p);
    write_string_attr(file.get(), "format", "megaswift-hdf5", p);
    write_i64_attr(file.get(), "format_version", {1}, p);
    write_i64_attr(file.get(), "rank", {0}, p);
    Handle tensors = check_group(H5Gcreate2(file.get(), "tensors", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), p);
    Handle group = check_group(H5Gcreate2(tensors.get(), "w", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), p);
    const hsize_t dims[2] = {2, 3};
    Handle space = check_space(H5Screate_simple(2, dims, nullptr), p);
    Handle type = file_type(MSW_DTYPE_F32);
    Handle dset = check_dataset(
        H5Dcreate2(group.get(), "shard_0_0", type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), p);
    write_string_attr(dset.get(), "key", "w", p);
    write_i64_attr(dset.get(), "global_shape", {2, 3}, p);
    write_i64_attr(dset.get(), "global_offset", {0, 0}, p);
    write_string_attr(dset.get(), "dtype", "float32", p);
    const float values[6] = {1, 2, 3, 4, 5, 6};
    Handle mem = memory_type(MSW_DTYPE_F32);
    check_call(H5Dwrite(dset.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values), p);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <fuzz/corpus>\n", argv[0]);
    return 2;
  }
  const fs::path out = argv[1];
  pickles(out);
  zips(out);
  dcp(out);
  zarrays(out);
  hdf5(out);
  return 0;
}
