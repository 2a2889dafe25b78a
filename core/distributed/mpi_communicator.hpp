// MpiCommunicator: the processes of MPI_COMM_WORLD as a Communicator (core/distributed/communicator.hpp). Built only
// with GFN_MPI; this header does not include mpi.h, so a program compiles against it without MPI's flags.
// The constructor initialises MPI (threads: funnelled; only the calling thread talks to MPI) and the
// destructor finalises it; abort() ends every process of the job at once.
//
//   if (launched_by_mpi()) {
//     MpiCommunicator world;
//     session.set_communicator(world);  // rank world.rank() of world.size()
//   }
//
// Thread contract: one per process, created and used by the main thread.
#pragma once

#include "core/distributed/communicator.hpp"

namespace gfn {

// True when an MPI launcher (mpirun, mpiexec, srun with PMI or PMIx) started this process.
bool launched_by_mpi();

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator();
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void all_gather(const std::vector<char>& mine, std::vector<char>& all, std::vector<size_t>& offsets) override;
  [[noreturn]] void abort(int exit_code);

 private:
  int rank_ = 0, size_ = 1;
};

}  // namespace gfn
