#include "hdf5_format.hpp"

#include <megaswift/ckpt/files.hpp>

#include <dirent.h>

namespace megaswift::hdf5 {

Hdf5Format::Hdf5Format(std::string_view config_json) { (void)config_json; }

int32_t Hdf5Format::probe(const std::string& dir) {
  if (!ckpt::is_directory(dir)) return 0;
  const std::string index = dir + "/" + kIndexFile;
  if (ckpt::is_regular_file(index)) {
    try {
      parse_index(ckpt::read_text_file(index, 256u << 20), index);
      return 100;
    } catch (const std::exception&) {
      return 10;  // our file name, but damaged: open() will say why
    }
  }
  // rank_*.h5 without an index (written by h5py in this layout): readable by a scan.
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  int32_t score = 0;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind("rank_", 0) == 0 && name.size() > 3 && name.compare(name.size() - 3, 3, ".h5") == 0) score = 40;
  }
  ::closedir(d);
  return score;
}

std::unique_ptr<sdk::CheckpointWriter> Hdf5Format::begin_save(const sdk::SaveArgs& args) {
  ckpt::require_directory(args.dir, "hdf5 begin_save");
  return make_writer(args);
}

void Hdf5Format::commit_save(const sdk::SaveArgs& args) {
  if (!args.is_coordinator()) return;
  Silence quiet;
  const Index index = scan_files(args.dir);
  if (index.common_file.empty())
    throw sdk::Error(MSW_STATUS_NOT_FOUND, "hdf5 commit_save: no rank file in " + args.dir + " holds /" +
                                               kCommonDataset + " (the coordinator writes it in begin_save)");
  ckpt::write_file_atomic(args.dir + "/" + kIndexFile, index_json(index));
  ckpt::fsync_path(args.dir, true);
}

std::unique_ptr<sdk::CheckpointReader> Hdf5Format::open(const sdk::OpenArgs& args) { return make_reader(args); }

}  // namespace megaswift::hdf5
