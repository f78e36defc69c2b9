// render_node_metrics: one HELP/TYPE block per metric, then its samples.
#include "web/node_metrics.hpp"

#include <fmt/format.h>

#include <iterator>

namespace p2p::web {

namespace {
void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help, double value) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
}

// A label value in the text exposition format: backslash, double quote and line feed escaped.
std::string label_value(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// One gauge per file, labelled with its info hash and name, for alerts on a single file
// (contrib/prometheus: a download with no peers). At most kMaxFilesInMetrics files.
void file_metric(std::string& out, std::string_view name, std::string_view help, const SessionSnapshot& s,
                 double (*value)(const TorrentSnapshot&)) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
  std::size_t n = 0;
  for (const auto& t : s.torrents) {
    if (n++ == kMaxFilesInMetrics) break;
    fmt::format_to(std::back_inserter(out), "{}{{info_hash=\"{}\",name=\"{}\"}} {}\n", name, t.stats.info_hash_hex,
                   label_value(t.stats.name), value(t));
  }
}
}  // namespace

std::string render_node_metrics(const SessionSnapshot& s) {
  std::string out;
  const SessionCounters& c = s.counters;
  auto d = [](std::uint64_t v) { return static_cast<double>(v); };
  metric(out, "p2p_net_recv_payload_bytes_total", "counter", "Piece payload bytes received (libtorrent net.recv_payload_bytes).",
         d(c.recv_payload_bytes));
  metric(out, "p2p_net_sent_payload_bytes_total", "counter", "Piece payload bytes sent (libtorrent net.sent_payload_bytes).",
         d(c.sent_payload_bytes));
  metric(out, "p2p_net_recv_redundant_bytes_total", "counter",
         "Payload received that was not needed: duplicates (libtorrent net.recv_redundant_bytes).", d(c.recv_redundant_bytes));
  metric(out, "p2p_net_recv_failed_bytes_total", "counter",
         "Payload of pieces that failed their hash check (libtorrent net.recv_failed_bytes).", d(c.recv_failed_bytes));
  metric(out, "p2p_ses_num_piece_passed_total", "counter", "Pieces that passed their hash check (libtorrent ses.num_piece_passed).",
         d(c.num_piece_passed));
  metric(out, "p2p_ses_num_piece_failed_total", "counter", "Pieces that failed their hash check (libtorrent ses.num_piece_failed).",
         d(c.num_piece_failed));
  metric(out, "p2p_peers_banned_total", "counter", "Peers banned this run.", d(c.peers_banned));
  metric(out, "p2p_peers_displaced_total", "counter",
         "Connections closed at the connection cap to admit a newcomer (the one idle longest without payload).",
         d(c.peers_displaced));
  std::size_t peers = 0;
  for (const auto& t : s.torrents) peers += t.stats.peers;
  metric(out, "p2p_peer_num_peers_connected", "gauge", "Peers past the handshake, all files (libtorrent peer.num_peers_connected).",
         d(peers));
  metric(out, "p2p_connections", "gauge", "Open peer connections, with those still in their handshake.", d(s.connections));
  metric(out, "p2p_disk_queued_hash_jobs", "gauge", "Pieces waiting for or being hashed and written (hash-queue depth).",
         d(s.hash_queue_depth));
  metric(out, "p2p_torrents", "gauge", "Files in this process.", d(s.torrents.size()));
  file_metric(out, "p2p_file_peers", "Peers past the handshake, per file.", s,
              [](const TorrentSnapshot& t) { return static_cast<double>(t.stats.peers); });
  file_metric(out, "p2p_file_distributed_copies",
              "Complete copies among the connected peers: the rarest piece's count plus the share held more often.", s,
              [](const TorrentSnapshot& t) { return t.stats.distributed_copies; });
  file_metric(out, "p2p_file_complete", "1 once every piece of the file is verified, else 0.", s,
              [](const TorrentSnapshot& t) { return t.stats.pieces_verified == t.stats.pieces_total ? 1.0 : 0.0; });
  file_metric(out, "p2p_file_verified_bytes", "Bytes on disk and hash-checked, per file.", s,
              [](const TorrentSnapshot& t) { return static_cast<double>(t.stats.verified_bytes); });
  file_metric(out, "p2p_file_size_bytes", "Size of the file (of the tree's files together), per file.", s,
              [](const TorrentSnapshot& t) { return static_cast<double>(t.stats.total_bytes); });
  const LanCounters& lan = s.lan;
  metric(out, "p2p_lan_datagrams_sent_total", "counter", "LAN announce datagrams sent (one per interface).", d(lan.datagrams_sent));
  metric(out, "p2p_lan_datagrams_received_total", "counter", "LAN announce datagrams received, our own included.",
         d(lan.datagrams_received));
  out += "# HELP p2p_lan_datagrams_dropped_total LAN datagrams not acted on, by why.\n"
         "# TYPE p2p_lan_datagrams_dropped_total counter\n";
  const std::pair<std::string_view, std::uint64_t> dropped[] = {{"per_source_limit", lan.dropped_per_source},
                                                                {"total_limit", lan.dropped_total},
                                                                {"invalid", lan.refused},
                                                                {"own", lan.own},
                                                                {"ports_per_source", lan.ports_refused}};
  for (const auto& [why, n] : dropped)
    fmt::format_to(std::back_inserter(out), "p2p_lan_datagrams_dropped_total{{reason=\"{}\"}} {}\n", why, n);
  metric(out, "p2p_lan_hints_total", "counter", "Peer addresses learned from LAN announces (swarm, source IP, port).", d(lan.hints));
  metric(out, "p2p_lan_answers_sent_total", "counter", "Answers sent to LAN announces naming our swarms.", d(lan.answers_sent));
  const auto& h = c.write_seconds;
  out += "# HELP p2p_disk_write_seconds Time to write one verified piece to disk (libtorrent disk.disk_write_time).\n"
         "# TYPE p2p_disk_write_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.kBounds.size(); ++i) {
    cumulative += h.buckets[i];
    fmt::format_to(std::back_inserter(out), "p2p_disk_write_seconds_bucket{{le=\"{}\"}} {}\n", h.kBounds[i], cumulative);
  }
  fmt::format_to(std::back_inserter(out), "p2p_disk_write_seconds_bucket{{le=\"+Inf\"}} {}\np2p_disk_write_seconds_sum {}\n"
                                          "p2p_disk_write_seconds_count {}\n", h.count, h.sum, h.count);
  return out;
}

}  // namespace p2p::web
