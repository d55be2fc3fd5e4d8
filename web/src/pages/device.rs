//! The Azure Sphere device loop (seed 003): publish the current message every interval;
//! whatever comes back becomes the current message.

use yew::prelude::*;

use crate::app::AppContext;
use crate::components::connection_panel::ConnectionPanel;
use crate::components::field::TextField;
use crate::components::loop_stats::LoopStatsView;
use crate::mqtt::Op;
use crate::state::{Field, Page};

#[component(DevicePage)]
pub fn device_page() -> Html {
    let ctx = use_context::<AppContext>().expect("AppContext");
    let state = &*ctx.state;
    let v = &state.device;
    let running = v.stats.running;
    html! {
        <>
            <ConnectionPanel settings={state.settings.clone()} onset={ctx.set_field()}
                client_id_default={state.settings.default_client_id(Page::Device)} />
            <section class="panel" aria-labelledby="device-title">
                <h2 id="device-title">{ "Device" }</h2>
                <div class="grid">
                    <TextField id="device-in" label="Listen on" value={v.in_topic.clone()} onset={ctx.set(Field::DeviceIn)} disabled={running} />
                    <TextField id="device-out" label="Publish on" value={v.out_topic.clone()} onset={ctx.set(Field::DeviceOut)} disabled={running} />
                    <TextField id="device-message" label="First message" value={v.message.clone()} onset={ctx.set(Field::DeviceMessage)} disabled={running} />
                    <TextField id="device-interval" label="Interval (ms)" kind="number" value={v.interval_ms.clone()}
                        onset={ctx.set(Field::DeviceInterval)} disabled={running} />
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
