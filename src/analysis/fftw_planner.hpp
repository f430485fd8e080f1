// Private: the one lock around FFTW's planner (plan creation and destruction are not
// thread-safe; executing an existing plan is). Every FFTW wrapper in scandiff takes it.
#pragma once

#include <mutex>

namespace scandiff::analysis {

std::mutex& fftw_planner_mutex();

}  // namespace scandiff::analysis
