// One exception hierarchy for the whole library. Every message names the input
// (file, parameter, frame) and what was expected, so a user can act on it.
#pragma once

#include <stdexcept>
#include <string>

namespace scandiff {

// Base of every error scandiff throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A parameter is out of range, inconsistent or missing (e.g. "--memory: 10 B is below ...").
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// A file cannot be opened, read or written (missing, a directory, permission, disk full).
class IoError : public Error {
 public:
  using Error::Error;
};

// A file opened but its content is not what was expected (truncated, corrupt, unsupported).
class FormatError : public Error {
 public:
  using Error::Error;
};

// The memory budget is too small for the requested work.
class BudgetError : public Error {
 public:
  using Error::Error;
};

// The user cancelled a long operation through the progress callback.
class Cancelled : public Error {
 public:
  Cancelled() : Error("operation cancelled") {}
};

}  // namespace scandiff
