#include "simulation_output.hpp"

#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "result_files.hpp"
#include "progress_bar.hpp"
#include "result_files.hpp"
#include "result_files.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/engine/write_frames.hpp"
#include "scandiff/io/atomic_file.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/raw_writer.hpp"
#include "scandiff/version.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

DataFormat format_from_extension(const fs::path& path) {
  const std::string ext = path.extension().string();
  if (ext == ".h5" || ext == ".hdf5" || ext == ".emd") return DataFormat::emd;
  if (ext == ".raw" || ext == ".bin") return DataFormat::raw;
  throw InvalidArgument(fmt::format("output '{}': unknown extension '{}', expected .h5/.emd (EMD 1.0) or .raw",
                                    path.string(), ext));
}

fs::path truth_path(const fs::path& data_path, const std::string& extension) {
  return data_path.parent_path() / (data_path.stem().string() + "_truth" + extension);
}

namespace {

void write_json(const fs::path& path, const Metadata& doc) {
  io::AtomicOutput out(path);
  {
    std::ofstream f(out.temp_path());
    f << doc.dump(2) << '\n';
    if (!f) throw IoError(fmt::format("{}: write failed", path.string()));
  }
  out.commit();
}

}  // namespace

void write_simulation(sim::SimulatedSource& source, const fs::path& data_path,
                      std::span<engine::Analysis* const> extra, const GlobalOptions& global,
                      const std::string& progress_label) {
  const io::DatasetInfo& info = source.info();
  const DataFormat format = format_from_extension(data_path);
  const std::string root = "datacube_root";

  std::unique_ptr<io::EmdWriter> emd;
  std::unique_ptr<io::RawWriter> raw;
  std::unique_ptr<io::FrameSink> sink;
  if (format == DataFormat::emd) {
    emd = std::make_unique<io::EmdWriter>(data_path);
    emd->add_root(root, info.calibration);
    emd->add_datacube(root, "datacube", info.shape(), info.dtype, info.calibration);
    sink = std::make_unique<io::EmdDataCubeSink>(*emd, root, "datacube");
  } else {
    raw = std::make_unique<io::RawWriter>(data_path, info);
  }
  engine::WriteFrames writer(emd ? *sink : static_cast<io::FrameSink&>(*raw));
  std::vector<engine::Analysis*> analyses{&writer};
  analyses.insert(analyses.end(), extra.begin(), extra.end());

  ProgressBar bar(progress_label, !global.quiet);
  engine::RunOptions options = global.run_options(progress_label);
  options.progress = bar.callback();
  engine::run(source, analyses, options);

  const Metadata parameters = source.generator().parameters();
  if (emd) {
    for (engine::Analysis* a : extra)
      for (const Result& r : a->results()) emd->add_array(root, r, python_class_for(r));
    emd->add_metadata(root, "simulation", parameters);
    emd->commit();
  } else {
    raw->commit();
  }

  // Ground truth: maps as an EMD file, parameters and the data layout as JSON.
  io::EmdWriter truth(truth_path(data_path, ".h5"));
  truth.add_root("truth_root", info.calibration);
  for (const Result& r : source.generator().ground_truth()) truth.add_array("truth_root", r, python_class_for(r));
  truth.add_metadata("truth_root", "simulation", parameters);
  truth.commit();
  Metadata doc{{"data", data_path.filename().string()},
               {"format", format == DataFormat::emd ? "emd" : "raw"},
               {"shape", {info.scan_y, info.scan_x, info.frame_y, info.frame_x}},
               {"axes", {"ry", "rx", "qy", "qx"}},
               {"dtype", std::string(name_of(info.dtype))},
               {"byte_order", "little"},
               {"scandiff_version", scandiff::version},
               {"parameters", parameters}};
  write_json(truth_path(data_path, ".json"), doc);
}

}  // namespace scandiff::cli
