// The control of tests/layers/upward_include.sh: a target that links p2p_net includes a
// header of a layer below it (format/), which must compile.
#include "format/meta.hpp"

int layer_probe_down() { return static_cast<int>(p2p::auto_piece_size(0) > 0); }
