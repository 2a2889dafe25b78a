// TrainingDiverged: thrown by the trainers when a loss or a gradient stops being finite; the message
// names the iteration (counted from 1) and the quantity.
#pragma once

#include <stdexcept>

namespace gfn {

class TrainingDiverged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace gfn
