// Snapshot -> JSON. Names and texts from peers and metas may be any bytes:
// dumping never throws on them (invalid UTF-8 is replaced).
#include "web/status_json.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "base/address.hpp"
#include "base/hex.hpp"
#include "format/json_text.hpp"

namespace p2p::web {

using nlohmann::json;

namespace {

json peer_json(const PeerSnapshot& p) {
  return json{{"address", p.address},
              {"origin", peer_origin_name(p.origin)},
              {"download_rate", p.download_rate},
              {"upload_rate", p.upload_rate},
              {"downloaded", p.downloaded},
              {"uploaded", p.uploaded},
              {"share", p.share},
              {"am_choking", p.am_choking},
              {"peer_choking", p.peer_choking},
              {"am_interested", p.am_interested},
              {"peer_interested", p.peer_interested},
              {"reputation", p.reputation},
              {"requests", p.requests},
              {"round_trip_ms", p.round_trip * 1000}};
}

// Whether peers outside our network can dial us through a mapping on the gateway, and why not.
json port_mapping_json(const PortMappingStatus& m) {
  json j{{"state", mapping_state_name(m.state)}, {"reachable", m.mapped()}, {"text", describe_mapping(m)}};
  if (m.mapped()) {
    j["external"] = format_host_port(m.external_ip, m.external_port);
    j["method"] = mapping_method_name(m.method);
    j["lifetime"] = m.lifetime.count();  // seconds, 0 = permanent
  } else if (!m.why_not.empty()) {
    j["why_not"] = m.why_not;  // the reason alone ("--no-port-mapping"); "text" has the whole line
  }
  return j;
}

json banned_json(const TorrentSnapshot& t) {
  json list = json::array();
  for (const auto& b : t.banned) list.push_back(json{{"peer", b.peer}, {"reason", b.reason}});
  return list;
}

json file_json(const SessionSnapshot& s, const TorrentSnapshot& t) {
  const TorrentStats& st = t.stats;
  Bottleneck b = file_bottleneck(s, t);
  json f{{"info_hash", st.info_hash_hex},
         {"name", st.name},
         {"size", st.total_bytes},
         {"piece_size", t.piece_size},
         {"pieces", st.pieces_total},
         {"pieces_verified", st.pieces_verified},
         {"verified_bytes", st.verified_bytes},
         {"progress", st.total_bytes ? static_cast<double>(st.verified_bytes) / static_cast<double>(st.total_bytes) : 1.0},
         {"phase", torrent_phase_name(t.phase)},
         {"seeding", t.seeding},
         {"download_rate", st.download_rate},
         {"upload_rate", st.upload_rate},
         {"downloaded", st.downloaded_bytes},
         {"uploaded", st.uploaded_bytes},
         {"wasted", st.wasted_bytes},
         {"bad_pieces", st.bad_pieces},
         {"peers", st.peers},
         {"distributed_copies", st.distributed_copies},
         {"known_peers", t.known_peers},
         {"hashing", t.hashing},
         {"piece_map", to_hex(t.piece_map)},
         {"limited_by", json{{"kind", TransferBottleneck::name(b)}, {"text", TransferBottleneck::describe(b)}}},
         {"banned", banned_json(t)}};
  if (!t.error.empty()) f["error"] = t.error;
  return f;
}

json download_json(const DownloadView& d) {
  json j{{"info_hash", d.info_hash}, {"name", d.name},         {"size", d.size},
         {"state", d.state},         {"position", d.position}, {"verified_bytes", d.verified_bytes},
         {"only", d.only}};
  if (!d.error.empty()) j["error"] = d.error;
  if (!d.path.empty() && d.state == "complete") j["path"] = d.path;
  return j;
}

// A download that is not in the session: the same keys as a session file, from what the queue knows.
json waiting_file_json(const DownloadView& d) {
  std::string text = d.state == "queued"     ? fmt::format("waiting in the queue (place {})", d.position)
                     : d.state == "checking" ? std::string("opening its files")
                     : d.state == "paused"   ? std::string("paused")
                     : d.state == "failed"   ? std::string("failed")
                     : d.state == "complete" ? std::string(d.only.empty() ? "complete; being opened to seed"
                                                                          : "the selected files are verified")
                                             : std::string("not in the session");
  json f{{"info_hash", d.info_hash},
         {"name", d.name},
         {"size", d.size},
         {"piece_size", 0},
         {"pieces", 0},
         {"pieces_verified", 0},
         {"verified_bytes", d.verified_bytes},
         {"progress", d.size ? static_cast<double>(d.verified_bytes) / static_cast<double>(d.size) : 0.0},
         {"phase", d.state},
         {"seeding", false},
         {"download_rate", 0},
         {"upload_rate", 0},
         {"downloaded", 0},
         {"uploaded", 0},
         {"wasted", 0},
         {"bad_pieces", 0},
         {"peers", 0},
         {"known_peers", 0},
         {"hashing", 0},
         {"piece_map", ""},
         {"limited_by", json{{"kind", "queue"}, {"text", text}}},
         {"banned", json::array()},
         {"download", json{{"state", d.state}, {"position", d.position}}}};
  if (!d.error.empty()) f["error"] = d.error;
  if (!d.path.empty() && d.state == "complete") f["path"] = d.path;
  return f;
}

}  // namespace

Bottleneck file_bottleneck(const SessionSnapshot& s, const TorrentSnapshot& t) {
  TransferMeasures m;
  m.complete = t.stats.pieces_verified == t.stats.pieces_total;
  m.peers = t.stats.peers;
  m.peers_unchoking_us = t.peers_unchoking_us;
  m.peers_interested = t.peers_interested;
  m.download_rate = t.stats.download_rate;
  m.upload_rate = t.stats.upload_rate;
  m.max_download_rate = s.max_download_rate;
  m.max_upload_rate = s.max_upload_rate;
  m.hash_queue_depth = s.hash_queue_depth;
  m.hash_threads = s.hash_threads;
  m.avg_hash_seconds = s.avg_hash_seconds;
  m.avg_write_seconds = s.avg_write_seconds;
  return TransferBottleneck::classify(m);
}

std::string status_json(const SessionSnapshot& s, const NodeIdentity& id, const RateSample& rates, bool with_peers,
                        std::size_t max_peers, const std::vector<DownloadView>& downloads) {
  json files = json::array();
  std::size_t peers_left = max_peers;
  std::vector<bool> shown(downloads.size());
  for (const auto& t : s.torrents) {
    json f = file_json(s, t);
    for (std::size_t i = 0; i < downloads.size(); ++i) {
      if (downloads[i].info_hash != t.stats.info_hash_hex) continue;
      shown[i] = true;
      f["download"] = json{{"state", downloads[i].state}, {"position", downloads[i].position}};
      // Where it is, once it is there (the session may know a moment before the queue does).
      if (!downloads[i].path.empty() && (t.phase == TorrentPhase::complete || downloads[i].state == "complete"))
        f["path"] = downloads[i].path;
    }
    if (with_peers) {
      json peers = json::array();
      for (const auto& p : t.peers) {
        if (peers_left == 0) break;
        --peers_left;
        peers.push_back(peer_json(p));
      }
      f["peer_list"] = std::move(peers);
    }
    files.push_back(std::move(f));
  }
  for (std::size_t i = 0; i < downloads.size(); ++i)
    if (!shown[i]) files.push_back(waiting_file_json(downloads[i]));
  const SessionCounters& c = s.counters;
  json node{{"kind", id.kind},
            {"can_add", id.can_add},
            {"can_download", id.can_download},
            {"trackers", id.trackers},
            {"listen_port", s.listen_port},
            {"port_mapping", port_mapping_json(s.port_mapping)},
            {"connections", s.connections},
            {"download_rate", rates.down},
            {"upload_rate", rates.up},
            {"max_download_rate", s.max_download_rate},
            {"max_upload_rate", s.max_upload_rate},
            {"hash_queue_depth", s.hash_queue_depth},
            {"hash_threads", s.hash_threads},
            {"avg_hash_seconds", s.avg_hash_seconds},
            {"avg_write_seconds", s.avg_write_seconds},
            {"piece_buffer_bytes", s.piece_buffer_bytes},
            {"piece_buffer_budget", s.piece_buffer_budget},
            {"reachability", s.reachability}};
  json counters{{"recv_payload_bytes", c.recv_payload_bytes},
                {"sent_payload_bytes", c.sent_payload_bytes},
                {"recv_redundant_bytes", c.recv_redundant_bytes},
                {"recv_failed_bytes", c.recv_failed_bytes},
                {"num_piece_passed", c.num_piece_passed},
                {"num_piece_failed", c.num_piece_failed},
                {"peers_banned", c.peers_banned},
                {"peers_displaced", c.peers_displaced}};
  return json_text(json{{"node", std::move(node)}, {"files", std::move(files)}, {"counters", std::move(counters)}});
}

std::string downloads_json(const std::vector<DownloadView>& downloads) {
  json list = json::array();
  for (const auto& d : downloads) list.push_back(download_json(d));
  return json_text(json{{"downloads", std::move(list)}});
}

std::string peers_json(const TorrentSnapshot& t) {
  json peers = json::array();
  for (const auto& p : t.peers) peers.push_back(peer_json(p));
  return json_text(json{{"info_hash", t.stats.info_hash_hex}, {"peers", std::move(peers)}, {"banned", banned_json(t)}});
}

std::string event_json(const LoggedEvent& e) {
  return json_text(json{{"seq", e.seq}, {"time_ms", e.unix_ms}, {"file", e.torrent}, {"kind", event_kind_name(e.kind)}, {"text", e.text}});
}

std::string history_json(const RateHistory& h) {
  json list = json::array();
  for (const auto& r : h.samples()) list.push_back(json::array({r.unix_ms, r.down, r.up}));
  return json_text(json{{"samples", std::move(list)}});
}

}  // namespace p2p::web
