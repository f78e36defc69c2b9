// What a session shows of itself to a page, an API or /metrics: plain values
// copied on the io thread (Session::snapshot), so readers never touch live state.
// Counters are monotonic over the process's life; their names follow
// libtorrent's session counters where they mean the same thing (docs/API.md).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "net/port_mapping_state.hpp"
#include "swarm/session.hpp"

namespace p2p {

// Seconds one verified piece took to reach the .partial (pwrite), as a
// Prometheus-style cumulative histogram.
struct LatencyHistogram {
  static constexpr std::array<double, 11> kBounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                  0.05,   0.1,   0.25,   0.5,   1.0};
  std::array<std::uint64_t, kBounds.size()> buckets{};  // observations <= bound (not cumulative)
  std::uint64_t count = 0;
  double sum = 0;
  void observe(double seconds) {
    for (std::size_t i = 0; i < kBounds.size(); ++i)
      if (seconds <= kBounds[i]) {
        ++buckets[i];
        break;
      }
    ++count;
    sum += seconds;
  }
};

struct SessionCounters {
  std::uint64_t recv_payload_bytes = 0;    // libtorrent net.recv_payload_bytes
  std::uint64_t sent_payload_bytes = 0;    // net.sent_payload_bytes
  std::uint64_t recv_redundant_bytes = 0;  // net.recv_redundant_bytes (duplicates, unwanted)
  std::uint64_t recv_failed_bytes = 0;     // net.recv_failed_bytes (pieces that failed their hash)
  std::uint64_t num_piece_passed = 0;      // ses.num_piece_passed
  std::uint64_t num_piece_failed = 0;      // ses.num_piece_failed
  std::uint64_t peers_banned = 0;          // bans this run (no libtorrent equivalent)
  std::uint64_t peers_displaced = 0;       // connections closed at the cap for a newcomer (IdleEviction)
  LatencyHistogram write_seconds;          // disk.disk_write_time, as a histogram
};

// LAN discovery (swarm/lan_discovery.hpp): what it sent, heard, dropped and passed on.
// All zero while it is off.
struct LanCounters {
  bool on = false;
  std::uint64_t datagrams_sent = 0, send_errors = 0, datagrams_received = 0;
  std::uint64_t dropped_per_source = 0, dropped_total = 0;  // over the intake limits, unparsed
  std::uint64_t refused = 0;        // not a valid announce (format/lan_announce Refusal)
  std::uint64_t own = 0;            // our own, looped back
  std::uint64_t ports_refused = 0;  // a source claiming one port too many (kMaxPortsPerSource)
  std::uint64_t hints = 0;          // (swarm, address) pairs handed to torrents
  std::uint64_t answers_sent = 0, answers_suppressed = 0;
};

// How a peer was reached: we dialled an address from the command line, a tracker,
// gossip or a LAN announce; we dialled it at a tracker's rendezvous (both ends dial
// at once: a hole punched through two NATs); through a relay; it dialled us (from
// our network, or through the port mapping on our gateway).
enum class PeerOrigin { command_line, tracker, gossip, lan, punched, relay, incoming, mapped };
std::string_view peer_origin_name(PeerOrigin origin);

struct PeerSnapshot {
  std::string address;  // the peer's key: "ip:port" dialled or claimed, else its IP
  PeerOrigin origin = PeerOrigin::incoming;
  double download_rate = 0, upload_rate = 0;  // bytes/s, from us / to us over the last seconds
  std::uint64_t downloaded = 0, uploaded = 0;  // payload bytes over this connection
  double share = 0;                            // fraction of the pieces it has, 0-1
  bool am_choking = true, peer_choking = true, am_interested = false, peer_interested = false;
  double reputation = 0;                       // Reputation score
  std::size_t requests = 0;                    // our requests outstanding to it
  double round_trip = 0;                       // seconds, the smallest measured (0: not yet)
};

struct BanSnapshot {
  std::string peer, reason;
};

// partial: stopped once its --only selection was verified; the folder is not finished
// (its other files are missing, and named by p2p-download).
enum class TorrentPhase { running, paused, complete, stopped, failed, partial };
std::string_view torrent_phase_name(TorrentPhase phase);

struct TorrentSnapshot {
  TorrentStats stats;
  TorrentPhase phase = TorrentPhase::running;
  bool seeding = false;           // keeps serving once complete
  std::string error;              // why it failed
  std::uint64_t piece_size = 0;
  // The piece map downsampled to at most kPieceMapCells cells, each the share of
  // its pieces verified, 0-255 (255 = all of them).
  static constexpr std::size_t kPieceMapCells = 256;
  std::vector<std::uint8_t> piece_map;
  std::vector<PeerSnapshot> peers;  // at most kMaxPeersShown, fastest first
  static constexpr std::size_t kMaxPeersShown = 200;
  std::vector<BanSnapshot> banned;
  std::size_t known_peers = 0;      // addresses in its directory
  std::size_t peers_unchoking_us = 0, peers_interested = 0;
  std::size_t hashing = 0;          // pieces queued or being hashed and written
};

struct SessionSnapshot {
  std::vector<TorrentSnapshot> torrents;
  SessionCounters counters;
  LanCounters lan;
  std::uint16_t listen_port = 0;         // 0: not listening
  PortMappingStatus port_mapping;        // the listen port on the gateway, or why not
  std::size_t connections = 0;           // every open connection, handshaken or not
  std::size_t hash_queue_depth = 0;      // pieces on the hashing pool, all torrents
  unsigned hash_threads = 1;
  double avg_hash_seconds = 0, avg_write_seconds = 0;  // recent, per piece
  std::uint64_t max_upload_rate = 0, max_download_rate = 0;  // 0 = unlimited
  std::size_t piece_buffer_bytes = 0, piece_buffer_budget = 0;
  // Whether this node can be dialled from outside, and why not: one line per tracker
  // whose connect-back probe answered (rendezvous_client.hpp).
  std::vector<std::string> reachability;
};

}  // namespace p2p
