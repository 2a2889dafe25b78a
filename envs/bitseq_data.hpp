// The BitSeq data (docs/environments.md), compiled into the library (written at build time by
// envs/data/embed.cmake from envs/data/*.txt): nothing is read from disk at run time.
// Each entry is one line of the file: a string of 120 '0'/'1' characters, NUL-terminated.
// Not a parser: BitSeqReward turns these lines into packed modes and the test set.
#pragma once

namespace gfn::data {

extern const char* const bitseq_modes_n120_seed42[];    // 60 modes
extern const int bitseq_modes_n120_seed42_count;
extern const char* const bitseq_testset_n120_seed42[];  // 7200 strings: each mode, then 119 noisy copies
extern const int bitseq_testset_n120_seed42_count;

}  // namespace gfn::data
