// Snapshot -> JSON for the page and the API, and the Prometheus text.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "web/node_metrics.hpp"
#include "web/status_json.hpp"

using namespace p2p;
using namespace p2p::web;

namespace {
SessionSnapshot sample() {
  SessionSnapshot s;
  TorrentSnapshot t;
  t.stats.name = "film.mkv";
  t.stats.info_hash_hex = std::string(64, 'a');
  t.stats.total_bytes = 1000;
  t.stats.verified_bytes = 250;
  t.stats.pieces_total = 4;
  t.stats.pieces_verified = 1;
  t.stats.peers = 1;
  t.stats.download_rate = 500;
  t.piece_map = {255, 0, 0, 128};
  PeerSnapshot p;
  p.address = "127.0.0.1:7000";
  p.origin = PeerOrigin::tracker;
  p.share = 0.5;
  p.peer_choking = false;
  p.reputation = 3;
  t.peers.push_back(p);
  t.peers_unchoking_us = 1;
  t.banned.push_back({"10.0.0.9:1", "sent corrupt data for piece 2"});
  s.torrents.push_back(t);
  s.counters.recv_payload_bytes = 12345;
  s.counters.num_piece_failed = 2;
  s.lan.on = true;
  s.lan.dropped_per_source = 7;
  s.lan.hints = 3;
  s.counters.write_seconds.observe(0.0007);
  s.counters.write_seconds.observe(0.2);
  s.hash_threads = 2;
  return s;
}
}  // namespace

TEST_CASE("status JSON: files with progress, piece map, what limits them, peers and bans", "[web]") {
  auto j = nlohmann::json::parse(status_json(sample(), NodeIdentity{"download", false}, RateSample{0, 10, 20}, true));
  CHECK(j["node"]["kind"] == "download");
  CHECK(j["node"]["download_rate"] == 10);
  const auto& f = j["files"].at(0);
  CHECK(f["name"] == "film.mkv");
  CHECK(f["progress"] == Approx(0.25));
  CHECK(f["piece_map"] == "ff000080");
  CHECK(f["limited_by"]["kind"] == "peers_upload");
  CHECK(f["banned"].at(0)["reason"] == "sent corrupt data for piece 2");
  CHECK(f["peer_list"].at(0)["origin"] == "tracker");
  CHECK(f["peer_list"].at(0)["peer_choking"] == false);
  CHECK(j["counters"]["recv_payload_bytes"] == 12345);
  auto without = nlohmann::json::parse(status_json(sample(), NodeIdentity{"seed", true}, {}, false));
  CHECK_FALSE(without["files"].at(0).contains("peer_list"));
}

TEST_CASE("status JSON: peer rows are capped over all files; names that are not UTF-8 do not throw", "[web]") {
  auto s = sample();
  s.torrents[0].stats.name = "bad\xff\xfe";
  for (int i = 0; i < 10; ++i) s.torrents[0].peers.push_back(s.torrents[0].peers[0]);
  auto j = nlohmann::json::parse(status_json(s, {}, {}, true, 3));
  CHECK(j["files"].at(0)["peer_list"].size() == 3);
}

TEST_CASE("metrics: libtorrent-named counters and a cumulative write-latency histogram", "[web]") {
  std::string m = render_node_metrics(sample());
  CHECK(m.find("# TYPE p2p_net_recv_payload_bytes_total counter\np2p_net_recv_payload_bytes_total 12345\n") != std::string::npos);
  CHECK(m.find("p2p_ses_num_piece_failed_total 2\n") != std::string::npos);
  CHECK(m.find("p2p_peer_num_peers_connected 1\n") != std::string::npos);
  CHECK(m.find("p2p_disk_write_seconds_bucket{le=\"0.0005\"} 0\n") != std::string::npos);
  CHECK(m.find("p2p_disk_write_seconds_bucket{le=\"0.001\"} 1\n") != std::string::npos);
  CHECK(m.find("p2p_disk_write_seconds_bucket{le=\"0.25\"} 2\n") != std::string::npos);
  CHECK(m.find("p2p_disk_write_seconds_bucket{le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(m.find("p2p_disk_write_seconds_count 2\n") != std::string::npos);
  CHECK(m.find("p2p_lan_datagrams_dropped_total{reason=\"per_source_limit\"} 7\n") != std::string::npos);
  CHECK(m.find("p2p_lan_hints_total 3\n") != std::string::npos);
}

TEST_CASE("metrics: per-file gauges labelled by info hash and an escaped name, capped in number", "[web]") {
  auto s = sample();
  std::string m = render_node_metrics(s);
  const std::string labels = "{info_hash=\"" + std::string(64, 'a') + "\",name=\"film.mkv\"}";
  CHECK(m.find("p2p_file_peers" + labels + " 1\n") != std::string::npos);
  CHECK(m.find("p2p_file_complete" + labels + " 0\n") != std::string::npos);
  CHECK(m.find("p2p_file_verified_bytes" + labels + " 250\n") != std::string::npos);
  CHECK(m.find("p2p_file_size_bytes" + labels + " 1000\n") != std::string::npos);
  s.torrents[0].stats.name = "a\"b\\c\nd";
  s.torrents[0].stats.pieces_verified = 4;
  m = render_node_metrics(s);
  CHECK(m.find("name=\"a\\\"b\\\\c\\nd\"} 1\n") != std::string::npos);  // p2p_file_complete
  s.torrents.resize(kMaxFilesInMetrics + 5, s.torrents[0]);
  m = render_node_metrics(s);
  std::size_t rows = 0;
  for (std::size_t at = m.find("\np2p_file_peers{"); at != std::string::npos; at = m.find("\np2p_file_peers{", at + 1)) ++rows;
  CHECK(rows == kMaxFilesInMetrics);
}

TEST_CASE("event log keeps the newest events, numbered; rate history gives exact rates from counters", "[web]") {
  EventLog log;
  for (int i = 0; i < 250; ++i) log.add(i, "f", EventKind::notice, std::to_string(i));
  CHECK(log.events().size() == EventLog::kCapacity);
  CHECK(log.events().front().text == "50");
  CHECK(log.events().back().seq == 250);
  RateHistory h;
  CHECK(h.sample(10.0, 0, 1000, 0) == nullptr);  // the first call sets the mark
  const RateSample* r = h.sample(12.0, 5, 5000, 400);
  REQUIRE(r);
  CHECK(r->down == Approx(2000));
  CHECK(r->up == Approx(200));
}

TEST_CASE("status JSON: the port mapping says whether the node is reachable from outside, and why not", "[web][port_mapping]") {
  SessionSnapshot s;
  s.port_mapping.state = PortMappingStatus::State::mapped;
  s.port_mapping.method = MappingMethod::upnp;
  s.port_mapping.external_ip = "198.20.0.1";
  s.port_mapping.external_port = 40001;
  s.port_mapping.lifetime = std::chrono::seconds(3600);
  auto j = nlohmann::json::parse(status_json(s, NodeIdentity{"seed", true}, RateSample{}, false));
  auto pm = j["node"]["port_mapping"];
  CHECK(pm["reachable"] == true);
  CHECK(pm["external"] == "198.20.0.1:40001");
  CHECK(pm["method"] == "UPnP");
  CHECK(pm["lifetime"] == 3600);
  s.port_mapping = PortMappingStatus{};
  s.port_mapping.state = PortMappingStatus::State::unmapped;
  s.port_mapping.why_not = "no gateway answered (NAT-PMP, UPnP)";
  j = nlohmann::json::parse(status_json(s, NodeIdentity{"seed", true}, RateSample{}, false));
  pm = j["node"]["port_mapping"];
  CHECK(pm["reachable"] == false);
  CHECK(pm["state"] == "unmapped");
  CHECK(pm["why_not"] == "no gateway answered (NAT-PMP, UPnP)");
  CHECK_FALSE(pm.contains("external"));
  s.port_mapping = PortMappingStatus{};
  s.port_mapping.why_not = "--no-port-mapping";
  pm = nlohmann::json::parse(status_json(s, NodeIdentity{"seed", true}, RateSample{}, false))["node"]["port_mapping"];
  CHECK(pm["state"] == "off");
  CHECK(pm["why_not"] == "--no-port-mapping");
  CHECK(pm["text"] == "off (--no-port-mapping)");
}

TEST_CASE("status: downloads merged with the session's files", "[web]") {
  SessionSnapshot s = sample();  // holds film.mkv, info hash aaaa...
  DownloadView running;
  running.info_hash = std::string(64, 'a');
  running.name = "film.mkv";
  running.state = "complete";
  running.position = 1;
  running.path = "/srv/p2p/film.mkv";
  DownloadView waiting;
  waiting.info_hash = std::string(64, 'b');
  waiting.name = "next.iso";
  waiting.size = 400;
  waiting.verified_bytes = 100;
  waiting.state = "paused";
  waiting.position = 2;
  auto j = nlohmann::json::parse(status_json(s, NodeIdentity{"seed", true}, {}, false, kMaxPeerRows, {running, waiting}));
  REQUIRE(j["files"].size() == 2);
  CHECK(j["files"][0]["name"] == "film.mkv");
  CHECK(j["files"][0]["path"] == "/srv/p2p/film.mkv");
  CHECK(j["files"][0]["download"]["position"] == 1);
  CHECK(j["files"][1]["name"] == "next.iso");
  CHECK(j["files"][1]["phase"] == "paused");
  CHECK(j["files"][1]["progress"] == 0.25);
  CHECK(j["files"][1]["limited_by"]["kind"] == "queue");
  CHECK_FALSE(j["files"][1].contains("path"));
  // Not complete yet: where it will be is not shown.
  running.state = "running";
  s.torrents[0].phase = TorrentPhase::running;
  waiting.path = "/srv/p2p/next.iso";
  j = nlohmann::json::parse(status_json(s, NodeIdentity{"seed", true}, {}, false, kMaxPeerRows, {running, waiting}));
  CHECK_FALSE(j["files"][0].contains("path"));
  CHECK_FALSE(j["files"][1].contains("path"));
  s.torrents[0].phase = TorrentPhase::complete;  // the session knows before the queue's next look
  j = nlohmann::json::parse(status_json(s, NodeIdentity{"seed", true}, {}, false, kMaxPeerRows, {running, waiting}));
  CHECK(j["files"][0]["path"] == "/srv/p2p/film.mkv");
  auto list = nlohmann::json::parse(downloads_json({running, waiting}));
  CHECK(list["downloads"][1]["state"] == "paused");
  CHECK_FALSE(list["downloads"][0].contains("path"));  // running: not there yet
  running.state = "complete";
  list = nlohmann::json::parse(downloads_json({running, waiting}));
  CHECK(list["downloads"][0]["path"] == "/srv/p2p/film.mkv");
}
