#include "preparation_options.hpp"

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/engine/bin_q.hpp"
#include "scandiff/engine/crop_q.hpp"
#include "scandiff/engine/pad_q.hpp"
#include "scandiff/engine/resample_q.hpp"
#include "scandiff/io/scan_bin.hpp"
#include "scandiff/io/scan_subset.hpp"

namespace scandiff::cli {

void PreparationOptions::add_to(CLI::App* cmd) {
  const std::string group = "Preparation (applied on the fly)";
  cmd->add_option("--crop-r", crop_r, "keep scan rows ry0..ry1-1 and columns rx0..rx1-1: ry0,ry1,rx0,rx1")
      ->expected(4)->delimiter(',')->group(group);
  cmd->add_option("--thin-r", thin_r, "keep every N-th scan position on both axes (scan step ×N)")
      ->check(CLI::PositiveNumber)->group(group);
  cmd->add_option("--bin-r", bin_r, "sum K×K neighbouring scan positions (dtype promoted: no overflow)")
      ->check(CLI::PositiveNumber)->group(group);
  cmd->add_option("--crop-q", crop_q, "keep detector rows qy0..qy1-1 and columns qx0..qx1-1: qy0,qy1,qx0,qx1")
      ->expected(4)->delimiter(',')->group(group);
  cmd->add_option("--bin-q", bin_q, "sum K×K detector pixels (dtype promoted: no overflow)")
      ->check(CLI::PositiveNumber)->group(group);
  cmd->add_option("--resample-q", resample_q,
                  "resample every pattern by factor F with bilinear interpolation (float32, N·F pixels a side)")
      ->group(group);
  cmd->add_option("--pad-q", pad_q, "pad every pattern with zeros: top,bottom,left,right pixels")
      ->expected(4)->delimiter(',')->group(group);
}

std::vector<engine::FrameStage*> PreparedInput::stage_list() const {
  std::vector<engine::FrameStage*> list;
  for (const auto& s : stages) list.push_back(s.get());
  return list;
}

PreparedInput prepare_input(std::unique_ptr<io::Source> source, const PreparationOptions& o) {
  PreparedInput in;
  std::shared_ptr<io::Source> src = std::move(source);
  if (!o.crop_r.empty() || o.thin_r != 1) {
    const io::DatasetInfo& info = src->info();
    std::int64_t ry0 = 0, ry1 = info.scan_y, rx0 = 0, rx1 = info.scan_x;
    if (!o.crop_r.empty()) {
      if (o.crop_r.size() != 4) throw InvalidArgument("--crop-r: expected ry0,ry1,rx0,rx1");
      ry0 = o.crop_r[0], ry1 = o.crop_r[1], rx0 = o.crop_r[2], rx1 = o.crop_r[3];
    }
    try {
      src = std::make_shared<io::ScanSubset>(src, ry0, ry1, rx0, rx1, o.thin_r);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(fmt::format("--crop-r/--thin-r: {}", e.what()));
    }
  }
  if (o.bin_r != 1) {
    try {
      src = std::make_shared<io::ScanBin>(src, o.bin_r);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(fmt::format("--bin-r: {}", e.what()));
    }
  }
  in.source = std::move(src);

  if (!o.crop_q.empty()) {
    if (o.crop_q.size() != 4) throw InvalidArgument("--crop-q: expected qy0,qy1,qx0,qx1");
    in.stages.push_back(std::make_unique<engine::CropQ>(o.crop_q[0], o.crop_q[1], o.crop_q[2], o.crop_q[3]));
  }
  if (o.bin_q != 1) in.stages.push_back(std::make_unique<engine::BinQ>(o.bin_q));
  if (o.resample_q != 0) in.stages.push_back(std::make_unique<engine::ResampleQ>(o.resample_q));
  if (!o.pad_q.empty()) {
    if (o.pad_q.size() != 4) throw InvalidArgument("--pad-q: expected top,bottom,left,right");
    in.stages.push_back(std::make_unique<engine::PadQ>(o.pad_q[0], o.pad_q[1], o.pad_q[2], o.pad_q[3]));
  }
  const std::vector<engine::FrameStage*> list = in.stage_list();
  in.info = engine::prepare_stages(in.source->info(), list);
  return in;
}

}  // namespace scandiff::cli
