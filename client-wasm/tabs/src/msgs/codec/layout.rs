//! The layout's numbers: the format, the kind of each message, the tags of its fields.

use mqtt_core::ConnectRefused;

/// Bumped when the layout changes: a tab of another build ignores what it cannot read.
pub(super) const FORMAT: u8 = 2;

/// The granted-QoS byte of a filter the broker refused (as in SUBACK).
pub(super) const REFUSED_FILTER: u8 = 0x80;

pub(super) mod kind {
    pub(in crate::msgs::codec) const HI: u8 = 1;
    pub(in crate::msgs::codec) const HELLO: u8 = 2;
    pub(in crate::msgs::codec) const STATE: u8 = 3;
    pub(in crate::msgs::codec) const DELIVERY: u8 = 4;
    pub(in crate::msgs::codec) const PUBLISH: u8 = 5;
    pub(in crate::msgs::codec) const ADOPT: u8 = 6;
    pub(in crate::msgs::codec) const SUBSCRIBE: u8 = 7;
    pub(in crate::msgs::codec) const UNSUBSCRIBE: u8 = 8;
    pub(in crate::msgs::codec) const BYE: u8 = 9;
    pub(in crate::msgs::codec) const TAKE_OVER: u8 = 10;
    pub(in crate::msgs::codec) const ACCEPTED: u8 = 11;
    pub(in crate::msgs::codec) const DONE: u8 = 12;
    pub(in crate::msgs::codec) const REFUSED: u8 = 13;
}

/// The tags of a [`ConnectionError`] on the channel.
pub(super) mod error_tag {
    pub(in crate::msgs::codec) const REFUSED: u8 = 0;
    pub(in crate::msgs::codec) const CONNECT_TIMEOUT: u8 = 1;
    pub(in crate::msgs::codec) const KEEPALIVE_TIMEOUT: u8 = 2;
    pub(in crate::msgs::codec) const CLOSED: u8 = 3;
    pub(in crate::msgs::codec) const ELSEWHERE: u8 = 4;
    /// Any other error that is retried: its words.
    pub(in crate::msgs::codec) const RETRIED: u8 = 5;
    /// Any other error that is not: its words.
    pub(in crate::msgs::codec) const FINAL: u8 = 6;
}

pub(super) const REFUSALS: [ConnectRefused; 5] = [
    ConnectRefused::UnacceptableProtocolVersion,
    ConnectRefused::IdentifierRejected,
    ConnectRefused::ServerUnavailable,
    ConnectRefused::BadUserNameOrPassword,
    ConnectRefused::NotAuthorized,
];
