//! Reading the fields of a tab message: every read checks what is left.

use core::time::Duration;

use mqtt_core::{qos_from_u8, ConnectionError, QoS, TransportFailure};

use super::error::DecodeError;
use super::layout::{error_tag, REFUSALS};
use crate::msgs::types::{LinkState, Publish, RequestKey, TabId};

pub(super) struct Reader<'a> {
    pub(super) bytes: &'a [u8],
}

impl Reader<'_> {
    pub(super) fn byte(&mut self) -> Result<u8, DecodeError> {
        let (&first, rest) = self.bytes.split_first().ok_or(DecodeError::Truncated)?;
        self.bytes = rest;
        Ok(first)
    }

    pub(super) fn flag(&mut self) -> Result<bool, DecodeError> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::OutOfRange),
        }
    }

    pub(super) fn num(&mut self) -> Result<u64, DecodeError> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(DecodeError::OutOfRange);
            }
            n |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(DecodeError::OutOfRange)
    }

    pub(super) fn small<T: TryFrom<u64>>(&mut self) -> Result<T, DecodeError> {
        T::try_from(self.num()?).map_err(|_| DecodeError::OutOfRange)
    }

    /// A list's length: each item takes a byte at least, so no more than the bytes left.
    pub(super) fn count(&mut self) -> Result<usize, DecodeError> {
        let n = self.num()?;
        if n > self.bytes.len() as u64 {
            return Err(DecodeError::Truncated);
        }
        Ok(n as usize)
    }

    pub(super) fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let len = self.count()?;
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(head.to_vec())
    }

    pub(super) fn text(&mut self) -> Result<String, DecodeError> {
        String::from_utf8(self.bytes()?).map_err(|_| DecodeError::InvalidUtf8)
    }

    pub(super) fn qos(&mut self) -> Result<QoS, DecodeError> {
        qos_from_u8(self.byte()?).ok_or(DecodeError::OutOfRange)
    }

    pub(super) fn tab(&mut self) -> Result<TabId, DecodeError> {
        Ok(TabId(self.num()?))
    }

    pub(super) fn key(&mut self) -> Result<RequestKey, DecodeError> {
        Ok(RequestKey {
            tab: self.tab()?,
            number: self.num()?,
        })
    }

    pub(super) fn publish(&mut self) -> Result<Publish, DecodeError> {
        Ok(Publish {
            topic: self.text()?,
            payload: self.bytes()?,
            qos: self.qos()?,
            retain: self.flag()?,
        })
    }

    pub(super) fn state(&mut self) -> Result<LinkState, DecodeError> {
        Ok(match self.byte()? {
            0 => LinkState::Connected {
                session_present: self.flag()?,
            },
            1 => LinkState::Reconnecting {
                attempt: self.small()?,
            },
            2 => {
                let attempt = self.small()?;
                let retries = self.flag()?;
                let ms = self.num()?;
                LinkState::Lost {
                    error: self.error()?,
                    reconnect_in: retries.then(|| Duration::from_millis(ms)),
                    attempt,
                }
            }
            _ => return Err(DecodeError::OutOfRange),
        })
    }

    pub(super) fn error(&mut self) -> Result<ConnectionError, DecodeError> {
        Ok(match self.byte()? {
            error_tag::REFUSED => {
                let index = usize::from(self.byte()?);
                ConnectionError::Refused(*REFUSALS.get(index).ok_or(DecodeError::OutOfRange)?)
            }
            error_tag::CONNECT_TIMEOUT => ConnectionError::ConnectTimeout(self.num()?),
            error_tag::KEEPALIVE_TIMEOUT => ConnectionError::KeepaliveTimeout(self.num()?),
            error_tag::CLOSED => ConnectionError::Transport(TransportFailure::Closed {
                code: self.small()?,
                reason: self.text()?,
            }),
            error_tag::ELSEWHERE => ConnectionError::ConnectedElsewhere {
                drops: self.small()?,
            },
            error_tag::RETRIED => {
                ConnectionError::Transport(TransportFailure::Dropped(self.text()?))
            }
            error_tag::FINAL => ConnectionError::Transport(TransportFailure::Setup(self.text()?)),
            _ => return Err(DecodeError::OutOfRange),
        })
    }
}
