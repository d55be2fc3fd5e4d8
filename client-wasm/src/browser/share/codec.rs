//! The one codec between a [`TabMessage`] and the JS value a `BroadcastChannel` carries: the
//! message's bytes ([`TabMessage::encode`]) as a `Uint8Array`, structured-cloned as they are.

use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};

use mqtt_tabs::msgs::{DecodeError, TabMessage};

pub(super) fn to_js(message: &TabMessage) -> JsValue {
    Uint8Array::from(message.encode().as_slice()).into()
}

pub(super) fn from_js(value: &JsValue) -> Result<TabMessage, DecodeError> {
    let bytes = value
        .dyn_ref::<Uint8Array>()
        .ok_or(DecodeError::NotBytes)?
        .to_vec();
    TabMessage::decode(&bytes)
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use mqtt_tabs::msgs::TabId;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_message_crosses_as_bytes_and_anything_else_is_refused() {
        let message = TabMessage::Hi { from: TabId(7) };
        assert_eq!(from_js(&to_js(&message)), Ok(message));
        assert_eq!(from_js(&JsValue::from(5)), Err(DecodeError::NotBytes));
        let garbage = Uint8Array::from([9u8, 9, 9].as_slice());
        assert!(from_js(&garbage.into()).is_err());
    }
}
