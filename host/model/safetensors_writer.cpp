#include "host/model/safetensors_writer.hpp"

#include "host/core/status.hpp"
#include "host/model/safetensors.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>

namespace megaswift::host {

void write_safetensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, msw_tensor>>& tensors) {
  std::vector<const std::pair<std::string, msw_tensor>*> order;
  std::set<std::string> seen;
  for (const auto& t : tensors) {
    if (!seen.insert(t.first).second)
      throw HostError(MSW_STATUS_INVALID_ARGUMENT, "write_safetensors " + path.string() + ": duplicate tensor '" + t.first + "'");
    if (t.second.device.type != MSW_DEVICE_CPU || !msw_tensor_is_contiguous(&t.second))
      throw HostError(MSW_STATUS_INVALID_ARGUMENT, "write_safetensors " + path.string() + ": tensor '" + t.first +
                                                       "' must be a contiguous CPU tensor");
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) {
    size_t sa = msw_dtype_size(a->second.dtype), sb = msw_dtype_size(b->second.dtype);
    return sa != sb ? sa > sb : a->first < b->first;
  });

  // nlohmann's ordered_json keeps insertion order, so __metadata__ stays first as the reference writer does.
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const auto* t : order) {
    const uint64_t bytes = static_cast<uint64_t>(msw_tensor_numel(&t->second)) * msw_dtype_size(t->second.dtype);
    std::vector<int64_t> shape(t->second.shape, t->second.shape + t->second.ndim);
    header[t->first] = {{"dtype", safetensors_dtype_name(t->second.dtype)},
                        {"shape", shape},
                        {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw HostError(MSW_STATUS_IO, "cannot create " + tmp);
    uint64_t n = text.size();
    char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    out.write(len, 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto* t : order) {
      const auto& d = t->second;
      const size_t bytes = static_cast<size_t>(msw_tensor_numel(&d)) * msw_dtype_size(d.dtype);
      out.write(static_cast<const char*>(d.data) + d.byte_offset, static_cast<std::streamsize>(bytes));
    }
    if (!out) throw HostError(MSW_STATUS_IO, "writing " + tmp + " failed (disk full?)");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace megaswift::host
