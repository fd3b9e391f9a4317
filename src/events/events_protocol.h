#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cex {

// The text frames of the events protocol, shared by the hub and the clients. A frame that starts
// with '{' is a JSON object; every other frame is one of these commands or replies.
//
// Peer to hub: "subscribe: <guid>", "unsubscribe: <guid>", "ack: <guid>", "ping", or a result
// (a JSON object with a string member "guid").
// Hub to peer: results as published, ack notices (ackFrame), "pong", "subscribed: <guid>",
// "subscribe failed: <guid> <reason>", "unknown text message", "unknown object message".
inline constexpr std::string_view kSubscribePrefix = "subscribe: ";
inline constexpr std::string_view kUnsubscribePrefix = "unsubscribe: ";
inline constexpr std::string_view kAckPrefix = "ack: ";
inline constexpr std::string_view kPing = "ping";
inline constexpr std::string_view kPong = "pong";
inline constexpr std::string_view kSubscribedPrefix = "subscribed: ";
inline constexpr std::string_view kSubscribeFailedPrefix = "subscribe failed: ";
inline constexpr std::string_view kUnknownText = "unknown text message";
inline constexpr std::string_view kUnknownObject = "unknown object message";

// Guids are request ids (UUIDs in practice); anything longer is refused so that one peer cannot
// make the hub keep large keys.
inline constexpr size_t kMaxGuidBytes = 128;

// 1 to kMaxGuidBytes printable ASCII characters without blanks, so that a guid never needs
// quoting inside a text frame.
bool isValidGuid(std::string_view guid);

// {"type":"ack","guid":<guid>,"acknowledgedBy":<acknowledged_by>}: tells a publisher that the
// subscriber `acknowledged_by` has its result.
std::string ackFrame(std::string_view guid, std::string_view acknowledged_by);

}  // namespace cex
