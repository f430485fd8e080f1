// Private: the one lock around FFTW's planner (plan creation and destruction, wisdom import and
// export are not thread-safe; executing an existing plan is). Every FFTW wrapper in scandiff
// takes it.
#pragma once

#include <mutex>

namespace scandiff::analysis {

std::mutex& fftw_planner_mutex();

// FFTW_ESTIMATE, FFTW_MEASURE or FFTW_PATIENT per set_fft_planning() (fft_planning.hpp), for
// the plans of aligned buffers.
unsigned fftw_planner_flags();

}  // namespace scandiff::analysis
