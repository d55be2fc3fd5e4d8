//! The Azure Sphere device loop (seed 003): publish the current message every interval;
//! whatever comes back becomes the current message.

use std::rc::Rc;

use yew::prelude::*;

use super::state::{Action as Device, DeviceState, Field};
use crate::app::use_app;
use crate::components::connection_panel::ConnectionPanel;
use crate::components::field::TextField;
use crate::components::loop_stats::LoopStatsView;
use crate::mqtt::Op;
use crate::state::{Action, Page, Settings};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub state: Rc<DeviceState>,
    pub settings: Rc<Settings>,
}

#[component(DevicePage)]
pub fn device_page(p: &Props) -> Html {
    let ctx = match use_app() {
        Ok(ctx) => ctx,
        Err(error) => return error,
    };
    let v = &*p.state;
    let set = |field: Field| ctx.on(move |value: String| Action::Device(Device::Set(field, value)));
    let running = v.stats.running;
    html! {
        <>
            <ConnectionPanel settings={p.settings.clone()} onset={ctx.set_field()}
                client_id_default={p.settings.default_client_id(Page::Device)} />
            <section class="panel" aria-labelledby="device-title">
                <h2 id="device-title">{ "Device" }</h2>
                <div class="grid">
                    <TextField id="device-in" label="Listen on" value={v.in_topic.clone()} onset={set(Field::In)} disabled={running} />
                    <TextField id="device-out" label="Publish on" value={v.out_topic.clone()} onset={set(Field::Out)} disabled={running} />
                    <TextField id="device-message" label="First message" value={v.message.clone()} onset={set(Field::Message)} disabled={running} />
                    <TextField id="device-interval" label="Interval (ms)" kind="number" value={v.interval_ms.clone()}
                        onset={set(Field::Interval)} disabled={running} />
                </div>
                <div class="actions">
                    <button id="device-start" data-testid="device-start" class="primary" type="button" disabled={running}
                        onclick={ctx.op(Op::StartDevice)}>{ "Start" }</button>
                    <button id="device-stop" type="button" disabled={!running} onclick={ctx.op(Op::Stop)}>{ "Stop" }</button>
                </div>
            </section>
            <LoopStatsView prefix="device" stats={v.stats.clone()} />
        </>
    }
}
