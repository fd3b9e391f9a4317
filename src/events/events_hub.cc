#include "events/events_hub.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/json_writer.h"
#include "events/events_protocol.h"
#include "events/frame_fields.h"

namespace cex {

namespace {

using Clock = std::chrono::steady_clock;

bool isValidGatewayId(std::string_view id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string randomGatewayId() {
  std::random_device device;
  std::uniform_int_distribution<uint32_t> digit(0, 15);
  std::string id;
  for (int i = 0; i < 8; ++i) {
    id.push_back("0123456789abcdef"[digit(device)]);
  }
  return id;
}

// A subject token for a guid: guids are printable and blank-free, but may hold the characters
// that subjects reserve. The guid itself travels in the message, so a token only has to be
// readable, not unique.
std::string subjectToken(std::string_view guid) {
  std::string token(guid);
  std::replace_if(
      token.begin(), token.end(), [](char c) { return c == '.' || c == '*' || c == '>'; }, '_');
  return token;
}

// A message between hubs: "<origin gateway id> <guid>\n<body>". The body is a result's bytes or
// the name of the peer that acknowledged.
struct HubMessage {
  std::string origin;
  std::string guid;
  std::string body;
};

std::string encodeHubMessage(std::string_view origin, std::string_view guid,
                             std::string_view body) {
  std::string data;
  data.reserve(origin.size() + guid.size() + body.size() + 2);
  data.append(origin).append(" ").append(guid).append("\n").append(body);
  return data;
}

std::optional<HubMessage> decodeHubMessage(std::string&& data) {
  size_t space = data.find(' ');
  size_t newline = data.find('\n');
  if (space == std::string::npos || newline == std::string::npos || newline < space) {
    return std::nullopt;
  }
  HubMessage message;
  message.origin = data.substr(0, space);
  message.guid = data.substr(space + 1, newline - space - 1);
  data.erase(0, newline + 1);
  message.body = std::move(data);
  return message;
}

}  // namespace

std::string EventsCounters::toJson() const {
  std::string out;
  JsonWriter json(&out);
  json.beginObject();
  auto member = [&json](std::string_view name, uint64_t value) {
    json.key(name).integer(static_cast<int64_t>(value));
  };
  member("peers", peers);
  member("subscriptions", subscriptions);
  member("heldResults", held_results);
  member("heldBytes", held_bytes);
  member("ackedGuids", acked_guids);
  member("subscribesTotal", subscribes_total);
  member("subscribesRefusedTotal", subscribes_refused_total);
  member("publishesTotal", publishes_total);
  member("deliveriesTotal", deliveries_total);
  member("heldDeliveriesTotal", held_deliveries_total);
  member("acksTotal", acks_total);
  member("acksRelayedTotal", acks_relayed_total);
  member("lateResultsTotal", late_results_total);
  member("unknownFramesTotal", unknown_frames_total);
  member("malformedFramesTotal", malformed_frames_total);
  member("evictionsTotal", evictions_total);
  member("expiredUnclaimedTotal", expired_unclaimed_total);
  member("expiredUnackedTotal", expired_unacked_total);
  member("pubsubReceivedTotal", pubsub_received_total);
  member("pubsubErrorsTotal", pubsub_errors_total);
  json.endObject();
  return out;
}

// The hub's state behind one lock. Peers are called with the lock held, which keeps every
// peer's frames in order; messages for other hubs are published after it is released, because
// a PubSub may deliver in the publishing thread.
class EventsHub::Core {
 public:
  Core(EventsHubOptions options, std::shared_ptr<PubSub> pubsub)
      : options_(std::move(options)), pubsub_(std::move(pubsub)) {}

  EventsPeerId attach(std::shared_ptr<EventsPeer> peer);
  void detach(EventsPeerId id);
  void receive(EventsPeerId id, std::string&& frame, bool binary);
  void subscribe(EventsPeerId id, const std::string& guid);
  void unsubscribe(EventsPeerId id, const std::string& guid);
  void ack(EventsPeerId id, const std::string& guid);
  void publish(EventsPeerId id, const std::string& guid, std::string&& json);
  void fromPubSub(const std::string& subject, std::string&& data);
  EventsCounters counters();

  const std::string& gatewayId() const { return options_.gateway_id; }

  std::string peerName(EventsPeerId id) const { return fmt::format("{}-{}", gatewayId(), id); }

  std::string resultSubject(std::string_view guid) const {
    return fmt::format("{}.result.{}", options_.subject_prefix, subjectToken(guid));
  }

  std::string ackSubject(std::string_view guid) const {
    return fmt::format("{}.ack.{}", options_.subject_prefix, subjectToken(guid));
  }

  std::string allSubjects() const { return options_.subject_prefix + ".>"; }

 private:
  struct Held {
    std::string json;
    uint64_t seq = 0;
    bool delivered = false;
  };

  // Everything known about one guid; erased once none of it is left.
  struct GuidEntry {
    std::vector<EventsPeerId> subscribers;  // local peers; usually one
    std::optional<Held> held;
    EventsPeerId sender = 0;              // local peer that published the latest copy; 0 when none
    uint64_t sender_seq = 0;              // of the sender's mark in sender_order_
    std::optional<std::string> acked_by;  // set once any hub has seen an ack
    uint64_t acked_seq = 0;               // of the mark in acked_order_
  };

  struct PeerEntry {
    std::shared_ptr<EventsPeer> peer;
    std::unordered_set<std::string> subscriptions;
  };

  // An entry of the expiry queues, which are kept oldest first. A mark whose guid has since been
  // refreshed (a newer seq) or erased is stale and skipped.
  struct Mark {
    Clock::time_point until;
    uint64_t seq;
    std::string guid;
  };

  struct Outgoing {
    std::string subject;
    std::string data;
  };

  Clock::time_point now() const {
    return options_.clock_for_test ? options_.clock_for_test() : Clock::now();
  }

  PeerEntry* findPeerLocked(EventsPeerId id);
  void replyLocked(EventsPeerId id, std::string_view text);
  void receiveObject(EventsPeerId id, std::string&& frame);
  void receiveCommand(EventsPeerId id, std::string_view text);
  void deliverLocked(const std::string& guid, GuidEntry& entry, const std::string& json);
  void holdLocked(const std::string& guid, GuidEntry& entry, std::string&& json);
  void applyAckLocked(const std::string& guid, const std::string& acknowledged_by);
  void markAckedLocked(const std::string& guid, GuidEntry& entry, const std::string& by);
  void dropHeldLocked(GuidEntry& entry);
  void remoteResultLocked(HubMessage&& message);
  void expireLocked();
  void expireHeldLocked(Clock::time_point now);
  void expireSendersLocked(Clock::time_point now);
  void expireAckedLocked(Clock::time_point now);
  void evictHeldLocked();
  void compactLocked();
  void eraseIfIdleLocked(const std::string& guid);
  void send(std::vector<Outgoing>&& outbox);

  const EventsHubOptions options_;
  const std::shared_ptr<PubSub> pubsub_;

  std::mutex mu_;
  EventsPeerId next_peer_ = 1;
  uint64_t next_seq_ = 1;
  std::unordered_map<EventsPeerId, PeerEntry> peers_;
  std::unordered_map<std::string, GuidEntry> guids_;
  std::deque<Mark> held_order_;
  std::deque<Mark> sender_order_;
  std::deque<Mark> acked_order_;
  EventsCounters counters_;
};

EventsPeerId EventsHub::Core::attach(std::shared_ptr<EventsPeer> peer) {
  std::lock_guard lock(mu_);
  EventsPeerId id = next_peer_++;
  peers_[id].peer = std::move(peer);
  ++counters_.peers;
  spdlog::debug("events peer attached peer={}", peerName(id));
  return id;
}

void EventsHub::Core::detach(EventsPeerId id) {
  std::lock_guard lock(mu_);
  auto it = peers_.find(id);
  if (it == peers_.end()) {
    return;
  }
  std::unordered_set<std::string> subscriptions = std::move(it->second.subscriptions);
  peers_.erase(it);
  --counters_.peers;
  counters_.subscriptions -= subscriptions.size();

  // Its subscriptions die with it; what it published stays for the ack.
  for (const std::string& guid : subscriptions) {
    auto entry = guids_.find(guid);
    if (entry != guids_.end()) {
      std::erase(entry->second.subscribers, id);
      eraseIfIdleLocked(guid);
    }
  }
  spdlog::debug("events peer detached peer={} subscriptions={}", peerName(id),
                subscriptions.size());
}

EventsHub::Core::PeerEntry* EventsHub::Core::findPeerLocked(EventsPeerId id) {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : &it->second;
}

void EventsHub::Core::replyLocked(EventsPeerId id, std::string_view text) {
  if (PeerEntry* peer = findPeerLocked(id)) {
    peer->peer->reply(text);
  }
}

void EventsHub::Core::receive(EventsPeerId id, std::string&& frame, bool binary) {
  if (binary) {
    std::lock_guard lock(mu_);
    ++counters_.unknown_frames_total;
    replyLocked(id, kUnknownText);
    return;
  }
  if (!frame.empty() && frame[0] == '{') {
    receiveObject(id, std::move(frame));
    return;
  }
  receiveCommand(id, frame);
}

void EventsHub::Core::receiveObject(EventsPeerId id, std::string&& frame) {
  auto fields = scanFrameFields(frame);
  if (fields.ok() && fields->guid && isValidGuid(*fields->guid)) {
    std::string guid = std::move(*fields->guid);
    publish(id, guid, std::move(frame));
    return;
  }

  // A peer's bad input is its problem: count it and tell it, without noise in the logs.
  std::lock_guard lock(mu_);
  if (!fields.ok() || fields->guid) {
    ++counters_.malformed_frames_total;
    spdlog::debug("events bad object peer={} bytes={} error=\"{}\"", peerName(id), frame.size(),
                  fields.ok() ? "invalid guid" : fields.status().message());
  } else {
    ++counters_.unknown_frames_total;
  }
  replyLocked(id, kUnknownObject);
}

void EventsHub::Core::receiveCommand(EventsPeerId id, std::string_view text) {
  if (text == kPing) {
    std::lock_guard lock(mu_);
    replyLocked(id, kPong);
    return;
  }
  auto argument = [text](std::string_view prefix) -> std::optional<std::string> {
    if (text.starts_with(prefix) && isValidGuid(text.substr(prefix.size()))) {
      return std::string(text.substr(prefix.size()));
    }
    return std::nullopt;
  };
  if (auto guid = argument(kSubscribePrefix)) {
    subscribe(id, *guid);
  } else if (auto guid = argument(kUnsubscribePrefix)) {
    unsubscribe(id, *guid);
  } else if (auto guid = argument(kAckPrefix)) {
    ack(id, *guid);
  } else {
    std::lock_guard lock(mu_);
    bool command = text.starts_with(kSubscribePrefix) || text.starts_with(kUnsubscribePrefix) ||
                   text.starts_with(kAckPrefix);
    ++(command ? counters_.malformed_frames_total : counters_.unknown_frames_total);
    replyLocked(id, kUnknownText);
  }
}

void EventsHub::Core::subscribe(EventsPeerId id, const std::string& guid) {
  std::lock_guard lock(mu_);
  expireLocked();
  PeerEntry* peer = findPeerLocked(id);
  if (peer == nullptr) {
    return;
  }
  ++counters_.subscribes_total;
  if (!isValidGuid(guid) ||
      (!peer->subscriptions.contains(guid) &&
       peer->subscriptions.size() >= options_.limits.max_subscriptions_per_peer)) {
    ++counters_.subscribes_refused_total;
    peer->peer->subscribeFailed(guid, isValidGuid(guid) ? "too many subscriptions" : "bad guid");
    return;
  }

  GuidEntry& entry = guids_[guid];
  if (peer->subscriptions.insert(guid).second) {
    entry.subscribers.push_back(id);
    ++counters_.subscriptions;
  }
  peer->peer->subscribed(guid);
  spdlog::debug("events subscribe guid={} peer={} held={}", guid, peerName(id),
                entry.held.has_value());

  // The result may have come first; it is held until acknowledged.
  if (entry.held) {
    entry.held->delivered = true;
    ++counters_.deliveries_total;
    ++counters_.held_deliveries_total;
    peer->peer->result(guid, entry.held->json);
  }
}

void EventsHub::Core::unsubscribe(EventsPeerId id, const std::string& guid) {
  std::lock_guard lock(mu_);
  PeerEntry* peer = findPeerLocked(id);
  if (peer == nullptr || peer->subscriptions.erase(guid) == 0) {
    return;
  }
  --counters_.subscriptions;
  auto entry = guids_.find(guid);
  if (entry != guids_.end()) {
    std::erase(entry->second.subscribers, id);
    eraseIfIdleLocked(guid);
  }
  spdlog::debug("events unsubscribe guid={} peer={}", guid, peerName(id));
}

void EventsHub::Core::ack(EventsPeerId id, const std::string& guid) {
  std::vector<Outgoing> outbox;
  {
    std::lock_guard lock(mu_);
    expireLocked();
    if (findPeerLocked(id) == nullptr) {
      return;
    }
    if (!isValidGuid(guid)) {
      ++counters_.malformed_frames_total;
      return;
    }
    ++counters_.acks_total;
    std::string by = peerName(id);
    spdlog::debug("events ack guid={} peer={}", guid, by);
    applyAckLocked(guid, by);
    if (pubsub_) {
      outbox.push_back({ackSubject(guid), encodeHubMessage(gatewayId(), guid, by)});
    }
  }
  send(std::move(outbox));
}

// Marks the guid acknowledged, forgets its result and tells its local publisher, if it is here.
void EventsHub::Core::applyAckLocked(const std::string& guid, const std::string& by) {
  GuidEntry& entry = guids_[guid];
  markAckedLocked(guid, entry, by);
  dropHeldLocked(entry);
  PeerEntry* sender = entry.sender != 0 ? findPeerLocked(entry.sender) : nullptr;
  if (sender != nullptr) {
    sender->peer->acked(guid, by);
    ++counters_.acks_relayed_total;
  }
  // A publisher that is away gets the ack from the mark when it publishes again.
  entry.sender = 0;
  eraseIfIdleLocked(guid);
}

void EventsHub::Core::markAckedLocked(const std::string& guid, GuidEntry& entry,
                                      const std::string& by) {
  if (entry.acked_by) {
    return;
  }
  entry.acked_by = by;
  entry.acked_seq = next_seq_++;
  acked_order_.push_back({now() + options_.acked_ttl, entry.acked_seq, guid});
  ++counters_.acked_guids;
  if (counters_.acked_guids > options_.limits.max_acked_guids) {
    // The oldest mark goes; its guid could at worst be delivered once more.
    Mark oldest = std::move(acked_order_.front());
    acked_order_.pop_front();
    auto it = guids_.find(oldest.guid);
    if (it != guids_.end() && it->second.acked_by && it->second.acked_seq == oldest.seq) {
      it->second.acked_by.reset();
      --counters_.acked_guids;
      eraseIfIdleLocked(oldest.guid);
    }
  }
}

void EventsHub::Core::dropHeldLocked(GuidEntry& entry) {
  if (entry.held) {
    --counters_.held_results;
    counters_.held_bytes -= entry.held->json.size();
    entry.held.reset();
  }
}

void EventsHub::Core::publish(EventsPeerId id, const std::string& guid, std::string&& json) {
  std::vector<Outgoing> outbox;
  {
    std::lock_guard lock(mu_);
    expireLocked();
    PeerEntry* peer = findPeerLocked(id);
    if (peer == nullptr) {
      return;
    }
    if (!isValidGuid(guid)) {
      ++counters_.malformed_frames_total;
      return;
    }
    ++counters_.publishes_total;
    GuidEntry& entry = guids_[guid];

    // Already acknowledged: a second result (a redelivered job's) goes nowhere, and its
    // publisher is released at once.
    if (entry.acked_by) {
      ++counters_.late_results_total;
      spdlog::debug("events late result guid={} peer={} acked_by={}", guid, peerName(id),
                    *entry.acked_by);
      peer->peer->acked(guid, *entry.acked_by);
      return;
    }

    entry.sender = id;
    entry.sender_seq = next_seq_++;
    sender_order_.push_back({now() + options_.hold, entry.sender_seq, guid});
    spdlog::debug("events publish guid={} peer={} bytes={} subscribers={}", guid, peerName(id),
                  json.size(), entry.subscribers.size());
    deliverLocked(guid, entry, json);
    if (pubsub_) {
      outbox.push_back({resultSubject(guid), encodeHubMessage(gatewayId(), guid, json)});
    }
    holdLocked(guid, entry, std::move(json));
  }
  send(std::move(outbox));
}

void EventsHub::Core::deliverLocked(const std::string& guid, GuidEntry& entry,
                                    const std::string& json) {
  for (EventsPeerId subscriber : entry.subscribers) {
    if (PeerEntry* peer = findPeerLocked(subscriber)) {
      peer->peer->result(guid, json);
      ++counters_.deliveries_total;
    }
  }
}

// Keeps the result (replacing an earlier copy) until it is acknowledged or expires.
void EventsHub::Core::holdLocked(const std::string& guid, GuidEntry& entry, std::string&& json) {
  bool delivered = !entry.subscribers.empty() || (entry.held && entry.held->delivered);
  dropHeldLocked(entry);
  if (json.size() > options_.limits.max_held_bytes) {
    ++counters_.evictions_total;
    spdlog::warn("events result too large to hold guid={} bytes={} max_held_bytes={}", guid,
                 json.size(), options_.limits.max_held_bytes);
    return;
  }
  uint64_t seq = next_seq_++;
  counters_.held_bytes += json.size();
  ++counters_.held_results;
  entry.held = Held{std::move(json), seq, delivered};
  held_order_.push_back({now() + options_.hold, seq, guid});
  evictHeldLocked();
  compactLocked();
}

// Drops the oldest held results until the limits hold again.
void EventsHub::Core::evictHeldLocked() {
  const EventsLimits& limits = options_.limits;
  while (!held_order_.empty() && (counters_.held_results > limits.max_held_results ||
                                  counters_.held_bytes > limits.max_held_bytes)) {
    Mark mark = std::move(held_order_.front());
    held_order_.pop_front();
    auto it = guids_.find(mark.guid);
    if (it == guids_.end() || !it->second.held || it->second.held->seq != mark.seq) {
      continue;
    }
    ++counters_.evictions_total;
    spdlog::warn("events result evicted guid={} bytes={} held={} held_bytes={}", mark.guid,
                 it->second.held->json.size(), counters_.held_results, counters_.held_bytes);
    dropHeldLocked(it->second);
    eraseIfIdleLocked(mark.guid);
  }
}

void EventsHub::Core::fromPubSub(const std::string& subject, std::string&& data) {
  auto message = decodeHubMessage(std::move(data));
  if (!message || message->origin == gatewayId() || !isValidGuid(message->guid)) {
    return;
  }
  std::lock_guard lock(mu_);
  expireLocked();
  ++counters_.pubsub_received_total;
  if (subject.starts_with(options_.subject_prefix + ".ack.")) {
    spdlog::debug("events remote ack guid={} by={} origin={}", message->guid, message->body,
                  message->origin);
    applyAckLocked(message->guid, message->body);
  } else if (subject.starts_with(options_.subject_prefix + ".result.")) {
    remoteResultLocked(std::move(*message));
  }
}

// A result published on another hub: delivered and held here as well, for subscribers of this
// hub. Its ack reaches the publisher through its own hub.
void EventsHub::Core::remoteResultLocked(HubMessage&& message) {
  GuidEntry& entry = guids_[message.guid];
  if (entry.acked_by) {
    eraseIfIdleLocked(message.guid);
    return;
  }
  spdlog::debug("events remote result guid={} origin={} bytes={} subscribers={}", message.guid,
                message.origin, message.body.size(), entry.subscribers.size());
  deliverLocked(message.guid, entry, message.body);
  holdLocked(message.guid, entry, std::move(message.body));
}

void EventsHub::Core::send(std::vector<Outgoing>&& outbox) {
  for (Outgoing& message : outbox) {
    Status status = pubsub_->publish(message.subject, message.data);
    if (!status.isOk()) {
      std::lock_guard lock(mu_);
      ++counters_.pubsub_errors_total;
      spdlog::warn("events pubsub publish failed subject={} bytes={} error=\"{}\"", message.subject,
                   message.data.size(), status.message());
    }
  }
}

EventsCounters EventsHub::Core::counters() {
  std::lock_guard lock(mu_);
  expireLocked();
  return counters_;
}

void EventsHub::Core::expireLocked() {
  Clock::time_point t = now();
  expireHeldLocked(t);
  expireSendersLocked(t);
  expireAckedLocked(t);
}

void EventsHub::Core::expireHeldLocked(Clock::time_point now) {
  while (!held_order_.empty() && held_order_.front().until <= now) {
    Mark mark = std::move(held_order_.front());
    held_order_.pop_front();
    auto it = guids_.find(mark.guid);
    if (it == guids_.end() || !it->second.held || it->second.held->seq != mark.seq) {
      continue;
    }
    bool delivered = it->second.held->delivered;
    ++(delivered ? counters_.expired_unacked_total : counters_.expired_unclaimed_total);
    spdlog::debug("events result expired guid={} delivered={}", mark.guid, delivered);
    dropHeldLocked(it->second);
    eraseIfIdleLocked(mark.guid);
  }
}

void EventsHub::Core::expireSendersLocked(Clock::time_point now) {
  while (!sender_order_.empty() && sender_order_.front().until <= now) {
    Mark mark = std::move(sender_order_.front());
    sender_order_.pop_front();
    auto it = guids_.find(mark.guid);
    if (it != guids_.end() && it->second.sender != 0 && it->second.sender_seq == mark.seq) {
      it->second.sender = 0;
      eraseIfIdleLocked(mark.guid);
    }
  }
}

void EventsHub::Core::expireAckedLocked(Clock::time_point now) {
  while (!acked_order_.empty() && acked_order_.front().until <= now) {
    Mark mark = std::move(acked_order_.front());
    acked_order_.pop_front();
    auto it = guids_.find(mark.guid);
    if (it != guids_.end() && it->second.acked_by && it->second.acked_seq == mark.seq) {
      it->second.acked_by.reset();
      --counters_.acked_guids;
      eraseIfIdleLocked(mark.guid);
    }
  }
}

// Publishing one guid again and again leaves stale marks behind; once they outnumber the live
// ones, they are swept so that the queues stay in proportion to what is held.
void EventsHub::Core::compactLocked() {
  if (held_order_.size() > 2 * counters_.held_results + 1024) {
    std::erase_if(held_order_, [this](const Mark& mark) {
      auto it = guids_.find(mark.guid);
      return it == guids_.end() || !it->second.held || it->second.held->seq != mark.seq;
    });
  }
  if (sender_order_.size() > 2 * guids_.size() + 1024) {
    std::erase_if(sender_order_, [this](const Mark& mark) {
      auto it = guids_.find(mark.guid);
      return it == guids_.end() || it->second.sender == 0 || it->second.sender_seq != mark.seq;
    });
  }
}

void EventsHub::Core::eraseIfIdleLocked(const std::string& guid) {
  auto it = guids_.find(guid);
  if (it == guids_.end()) {
    return;
  }
  const GuidEntry& entry = it->second;
  if (entry.subscribers.empty() && !entry.held && entry.sender == 0 && !entry.acked_by) {
    guids_.erase(it);
  }
}

// ----------------------------------------------------------------------------------------------

// Keeps a hub subscribed to the other hubs' subjects: at once when the PubSub can be reached,
// otherwise on a thread of its own that tries again every kLinkRetry until it can.
class EventsHub::Link {
 public:
  Link(std::shared_ptr<PubSub> pubsub, const std::shared_ptr<Core>& core)
      : pubsub_(std::move(pubsub)), core_(core), pattern_(core->allSubjects()) {}

  // Stops trying, then leaves the PubSub.
  ~Link() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;
  Link(Link&&) = delete;
  Link& operator=(Link&&) = delete;

  // The first attempt: Unavailable starts the retries; any other failure is returned.
  Status start() {
    Status status = trySubscribe();
    if (status.code() != StatusCode::Unavailable) {
      return status;
    }
    spdlog::warn("events pubsub unreachable, retrying pattern={} error=\"{}\"", pattern_,
                 status.message());
    thread_ = std::thread([this] { retry(); });
    return Status::ok();
  }

  bool ready() const {
    std::lock_guard lock(mu_);
    return subscription_ != nullptr;
  }

 private:
  static constexpr std::chrono::seconds kLinkRetry{1};

  Status trySubscribe() {
    // The callback holds the core only while it runs, so a message in flight when the hub goes
    // away finds it gone or finishes with it.
    std::weak_ptr<Core> weak = core_;
    auto subscription =
        pubsub_->subscribe(pattern_, [weak](const std::string& subject, std::string&& data) {
          if (auto alive = weak.lock()) {
            alive->fromPubSub(subject, std::move(data));
          }
        });
    if (!subscription.ok()) {
      return subscription.status();
    }
    std::lock_guard lock(mu_);
    subscription_ = std::move(subscription).value();
    return Status::ok();
  }

  void retry() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, kLinkRetry, [this] { return stopping_; })) {
      lock.unlock();
      Status status = trySubscribe();
      lock.lock();
      if (status.isOk()) {
        spdlog::info("events pubsub subscribed pattern={}", pattern_);
        return;
      }
      spdlog::debug("events pubsub still unreachable error=\"{}\"", status.message());
    }
  }

  const std::shared_ptr<PubSub> pubsub_;
  const std::weak_ptr<Core> core_;
  const std::string pattern_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                             // guarded by mu_
  std::unique_ptr<PubSubSubscription> subscription_;  // guarded by mu_
  std::thread thread_;
};

Result<std::unique_ptr<EventsHub>> EventsHub::create(EventsHubOptions options,
                                                     std::shared_ptr<PubSub> pubsub) {
  if (options.gateway_id.empty()) {
    options.gateway_id = randomGatewayId();
  }
  if (!isValidGatewayId(options.gateway_id)) {
    return Status::invalidArgument("events hub: gateway id must be [A-Za-z0-9_-]+, not \"" +
                                   options.gateway_id + "\"");
  }
  if (options.hold.count() <= 0 || options.acked_ttl.count() <= 0) {
    return Status::invalidArgument("events hub: hold and acked ttl must be positive");
  }
  const EventsLimits& limits = options.limits;
  if (limits.max_held_results == 0 || limits.max_acked_guids == 0 ||
      limits.max_subscriptions_per_peer == 0) {
    return Status::invalidArgument("events hub: limits must be positive");
  }
  auto core = std::make_shared<Core>(std::move(options), pubsub);
  std::unique_ptr<EventsHub> hub(new EventsHub(core));
  if (pubsub) {
    hub->link_ = std::make_unique<Link>(std::move(pubsub), core);
    Status linked = hub->link_->start();
    if (!linked.isOk()) {
      return linked;
    }
  }
  return hub;
}

EventsHub::EventsHub(std::shared_ptr<Core> core) : core_(std::move(core)) {}

EventsHub::~EventsHub() {
  link_.reset();
}

EventsPeerId EventsHub::attach(std::shared_ptr<EventsPeer> peer) {
  return core_->attach(std::move(peer));
}

void EventsHub::detach(EventsPeerId peer) {
  core_->detach(peer);
}

void EventsHub::receive(EventsPeerId peer, std::string&& frame, bool binary) {
  core_->receive(peer, std::move(frame), binary);
}

void EventsHub::subscribe(EventsPeerId peer, const std::string& guid) {
  core_->subscribe(peer, guid);
}

void EventsHub::unsubscribe(EventsPeerId peer, const std::string& guid) {
  core_->unsubscribe(peer, guid);
}

void EventsHub::ack(EventsPeerId peer, const std::string& guid) {
  core_->ack(peer, guid);
}

void EventsHub::publish(EventsPeerId peer, const std::string& guid, std::string&& json) {
  core_->publish(peer, guid, std::move(json));
}

EventsCounters EventsHub::counters() {
  return core_->counters();
}

const std::string& EventsHub::gatewayId() const {
  return core_->gatewayId();
}

std::string EventsHub::peerName(EventsPeerId peer) const {
  return core_->peerName(peer);
}

bool EventsHub::linked() const {
  return !link_ || link_->ready();
}

}  // namespace cex
