// A target that links p2p_net includes a header of a layer above it (swarm/): the build
// must refuse it (tests/layers/upward_include.sh expects this file not to compile).
#include "swarm/session.hpp"

int layer_probe_up() { return 0; }
