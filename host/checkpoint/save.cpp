#include "host/checkpoint/save.hpp"

#include "host/checkpoint/layout.hpp"
#include "host/checkpoint/test_kill_point.hpp"

#include <spdlog/spdlog.h>

namespace megaswift::host {

std::filesystem::path save_checkpoint(const CheckpointFormat& format, const SaveRequest& request,
                                      const std::function<void(CheckpointFormat::Writer&)>& write) {
  AtomicSave save(request.save_dir, request.iteration);
  const std::string dir = save.temp_dir().string();
  const std::string common = request.common.dump();
  const msw_save_args args = CheckpointFormat::save_args(dir, common, 0, 1);
  {
    CheckpointFormat::Writer writer(format, args);
    write(writer);
    writer.finish();
  }
  format.commit(args);
  test_kill_point(KillPoint::save);
  // The files beside the iteration directories describe the model; they are replaced before the tracker
  // moves, and a reader of the previous iteration finds the same model in them.
  if (!request.args.is_null()) write_file_atomic(request.save_dir / "args.json", request.args.dump(2));
  if (!request.model_dir.empty()) copy_model_files(request.model_dir, request.save_dir);
  save.commit();
  spdlog::info("saved checkpoint {} ({} format)", save.final_dir().string(), format.name());
  return save.final_dir();
}

}  // namespace megaswift::host
