// TransferBottleneck: the rules of the header, in order.
#include "swarm/policy/transfer_bottleneck.hpp"

#include <algorithm>

namespace p2p {

namespace {
bool at_cap(double rate, std::uint64_t cap) {
  return cap > 0 && rate >= TransferBottleneck::kCapShare * static_cast<double>(cap);
}
}  // namespace

Bottleneck TransferBottleneck::classify(const TransferMeasures& m) {
  if (m.complete) {
    if (at_cap(m.upload_rate, m.max_upload_rate)) return Bottleneck::upload_cap;
    if (m.peers == 0 || m.peers_interested == 0) return Bottleneck::no_demand;
    return Bottleneck::peers_download;
  }
  if (m.peers == 0) return Bottleneck::no_peers;
  if (at_cap(m.download_rate, m.max_download_rate)) return Bottleneck::download_cap;
  if (m.hash_queue_depth >= kQueuedPerThread * std::max(1u, m.hash_threads))
    return m.avg_write_seconds > m.avg_hash_seconds ? Bottleneck::disk_writes : Bottleneck::hashing;
  if (m.peers_unchoking_us == 0) return Bottleneck::peers_choking;
  return Bottleneck::peers_upload;
}

std::string_view TransferBottleneck::describe(Bottleneck b) {
  switch (b) {
    case Bottleneck::no_peers: return "no peer connected";
    case Bottleneck::download_cap: return "our download rate cap";
    case Bottleneck::upload_cap: return "our upload rate cap";
    case Bottleneck::disk_writes: return "disk writes (verified pieces wait to be written)";
    case Bottleneck::hashing: return "hashing (received pieces wait to be checked)";
    case Bottleneck::peers_choking: return "the peers: none lets us download now";
    case Bottleneck::peers_upload: return "the peers' upload";
    case Bottleneck::no_demand: return "nobody wants pieces now";
    case Bottleneck::peers_download: return "the peers' download";
  }
  return "";
}

std::string_view TransferBottleneck::name(Bottleneck b) {
  switch (b) {
    case Bottleneck::no_peers: return "no_peers";
    case Bottleneck::download_cap: return "download_cap";
    case Bottleneck::upload_cap: return "upload_cap";
    case Bottleneck::disk_writes: return "disk_writes";
    case Bottleneck::hashing: return "hashing";
    case Bottleneck::peers_choking: return "peers_choking";
    case Bottleneck::peers_upload: return "peers_upload";
    case Bottleneck::no_demand: return "no_demand";
    case Bottleneck::peers_download: return "peers_download";
  }
  return "";
}

}  // namespace p2p
