// MpiCommunicator implementation: MPI_Allgather of the part sizes, then MPI_Allgatherv of the bytes.
#include "core/distributed/mpi_communicator.hpp"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <stdexcept>

namespace gfn {

bool launched_by_mpi() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(variable) != nullptr) return true;
  return false;
}

MpiCommunicator::MpiCommunicator() {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiCommunicator::~MpiCommunicator() { MPI_Finalize(); }

void MpiCommunicator::all_gather(const std::vector<char>& mine, std::vector<char>& all, std::vector<size_t>& offsets) {
  // MPI counts are ints: a part too large is announced as -1, so that every process throws together.
  const int count = mine.size() > size_t(INT_MAX) ? -1 : int(mine.size());
  std::vector<int> counts(size_t(size_), 0), displacements(size_t(size_), 0);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
  offsets.assign(size_t(size_) + 1, 0);
  bool too_large = false;
  for (int r = 0; r < size_; ++r) {
    too_large = too_large || counts[size_t(r)] < 0;
    offsets[size_t(r) + 1] = offsets[size_t(r)] + size_t(std::max(counts[size_t(r)], 0));
  }
  if (too_large || offsets.back() > size_t(INT_MAX)) {
    set_finished_together();
    throw std::runtime_error("exchange: more than 2 GiB in one collective (a larger --block-size exchanges fewer blocks)");
  }
  for (int r = 0; r < size_; ++r) displacements[size_t(r)] = int(offsets[size_t(r)]);
  all.resize(offsets.back());
  MPI_Allgatherv(mine.data(), count, MPI_BYTE, all.data(), counts.data(), displacements.data(), MPI_BYTE,
                 MPI_COMM_WORLD);
}

void MpiCommunicator::abort(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);
}

}  // namespace gfn
