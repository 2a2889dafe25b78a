// What the command prints and draws for a training session (core/run/session.hpp): the text summary, the
// --json summary, and the plots of --out (curve.svg; heatmap.svg on 2-D grids). Every metric is
// printed under its key in the metrics table, the same name as in metrics.csv.
#pragma once

#include <memory>
#include <string>

#include "core/run/session.hpp"

namespace gfn::cli {

std::string summary_text(const Session& session);
std::string summary_json(const Session& session);
// curve.svg and, on 2-D grids, heatmap.svg into the session's output directory.
void write_plots(const Session& session);

// A session rebuilt from a checkpoint (for `gfn sample` and `gfn eval`), set to compute every metric
// when evaluated, refused when it exceeds `max_memory` GiB (NaN: the available memory).
std::unique_ptr<Session> load_session(const std::string& checkpoint_path, double max_memory);

}  // namespace gfn::cli
