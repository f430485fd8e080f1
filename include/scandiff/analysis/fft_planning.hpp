// How carefully FFTW plans the Fourier transforms scandiff makes (process-wide), and FFTW
// wisdom: the measured plans, saved to a file so later runs reuse them.
//
// estimate (the default): plans chosen by FFTW's heuristics in microseconds; the plan, and so
// every result bit, is the same on every run. measure / patient: FFTW times candidate
// algorithms when a transform size is first planned (about 0.2 s / 2–3 s for a 256x256 real
// transform pair on one core) and keeps the fastest, typically 1.3–1.5x faster per transform.
// Those plans can differ between machines and runs, so results can differ from the default
// ones in the last bits (about 1e-16 relative); with the same wisdom file they do not.
// Only the plans for buffers at FFTW's SIMD alignment (the hot paths: RealFft2D, ColumnFft) use
// the setting; plans made before a change keep theirs.
#pragma once

#include <filesystem>
#include <string_view>

namespace scandiff::analysis {

enum class FftPlanning { estimate, measure, patient };

// Throws InvalidArgument unless `name` is estimate, measure or patient.
FftPlanning parse_fft_planning(std::string_view name);
std::string_view fft_planning_name(FftPlanning planning);

void set_fft_planning(FftPlanning planning);
FftPlanning fft_planning();

// Adds the plans in the FFTW wisdom file `path` to this process's wisdom. Returns false when
// there is no such file; throws FormatError naming the file when it is not FFTW wisdom.
bool import_fftw_wisdom(const std::filesystem::path& path);
// Writes this process's wisdom (every plan measured so far and every imported one) to `path`,
// through a temporary file renamed into place. Throws IoError naming the file.
void export_fftw_wisdom(const std::filesystem::path& path);

}  // namespace scandiff::analysis
