// What limits a transfer now, from measured numbers only: the peers' upload,
// our own rate caps, disk writes or hashing. Pure (no clock, no sockets), so
// each rule is unit-tested; the node's page shows the verdict and its reason.
//
// Rules, first match wins, for a torrent still downloading:
//   no connected peer                                  -> no_peers
//   download cap set and rate >= 90 % of it           -> download_cap
//   hash queue >= 2 pieces per hashing thread:
//     writing a piece takes longer than hashing it     -> disk_writes
//     otherwise                                        -> hashing
//   no peer unchokes us                                -> peers_choking
//   otherwise (they unchoke us, we keep up)            -> peers_upload
// and for one that is complete (seeding):
//   upload cap set and rate >= 90 % of it             -> upload_cap
//   no peer wants pieces                               -> no_demand
//   otherwise                                          -> peers_download
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace p2p {

enum class Bottleneck {
  no_peers,        // nobody to trade with
  download_cap,    // our --max-download-rate
  upload_cap,      // our --max-upload-rate
  disk_writes,     // verified pieces wait for pwrite
  hashing,         // received pieces wait for SHA-256
  peers_choking,   // connected, but nobody lets us download
  peers_upload,    // the peers send as fast as they can (or want)
  no_demand,       // seeding; nobody is interested
  peers_download,  // seeding; the peers take what they can
};

struct TransferMeasures {
  bool complete = false;
  std::size_t peers = 0;               // connected (past the handshake)
  std::size_t peers_unchoking_us = 0;
  std::size_t peers_interested = 0;    // in what we have
  double download_rate = 0, upload_rate = 0;  // bytes/s
  std::uint64_t max_download_rate = 0, max_upload_rate = 0;  // 0 = no cap
  std::size_t hash_queue_depth = 0;    // pieces waiting for or in hash + write
  unsigned hash_threads = 1;
  double avg_hash_seconds = 0, avg_write_seconds = 0;  // per piece, recent
};

class TransferBottleneck {
 public:
  // A rate within this share of its cap is limited by the cap.
  static constexpr double kCapShare = 0.9;
  // Pieces queued per hashing thread beyond which the pool is the bottleneck.
  static constexpr std::size_t kQueuedPerThread = 2;

  static Bottleneck classify(const TransferMeasures& m);
  // One line for a person: "the peers' upload", "our download cap (2.0 MiB/s)"...
  static std::string_view describe(Bottleneck b);
  static std::string_view name(Bottleneck b);  // the enum's name, for JSON
};

}  // namespace p2p
