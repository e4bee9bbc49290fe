//! The list pages in real Chromium: bulk owner change on deals, delete
//! with undo on people, and the phone layout of /deals.

use crate::harness::{EMAIL, Screen, enabled, start};
use dealflow_core::{DealId, PersonId};
use fantoccini::Locator;
use serde_json::json;

/// Ids of the first `n` rows of the list on the page.
async fn first_ids(s: &crate::harness::Session, n: usize) -> Vec<String> {
    let ids = s
        .js(&format!(
            "return [...document.querySelectorAll('table.list tbody tr')].slice(0, {n}).map(r => r.dataset.id)"
        ))
        .await;
    ids.as_array().expect("ids").iter().map(|v| v.as_str().expect("id").to_string()).collect()
}

async fn click(s: &crate::harness::Session, css: &str) {
    s.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.expect("click");
}

#[tokio::test]
async fn change_the_owner_of_several_deals_at_once() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Desktop, "en").await;
    s.login().await;
    s.goto("/deals").await;
    s.wait_for("table.list tbody tr").await;
    let (admin, _) = s.store.user_by_email(EMAIL).await.expect("lookup").expect("admin");
    let ids = first_ids(&s, 3).await;
    assert_eq!(ids.len(), 3);
    for id in &ids {
        let d = s.store.deal(DealId(id.parse().expect("id"))).await.expect("deal");
        assert_ne!(d.owner_id, Some(admin.id), "demo deals belong to the reps");
        click(&s, &format!("tr[data-id='{id}'] input.pick")).await;
    }
    s.until("return document.getElementById('bulk-count').textContent.startsWith('3 ')").await;
    let picked = s.js(&format!(
        "const sel = document.getElementById('bulk-owner'); sel.value = '{}'; return sel.selectedOptions[0].textContent",
        admin.id
    ))
    .await;
    assert_eq!(picked, json!("Ada Admin"));
    click(&s, "#bulk button[data-action=owner]").await;
    s.until("const r = document.getElementById('bulk-report'); return !r.hidden && r.textContent.includes('3 of 3')")
        .await;
    for id in &ids {
        let d = s.store.deal(DealId(id.parse().expect("id"))).await.expect("deal");
        assert_eq!(d.owner_id, Some(admin.id), "deal {id} changed owner");
        let cell =
            s.js(&format!("return document.querySelector(\"tr[data-id='{id}'] .owner-name\").textContent")).await;
        assert_eq!(cell, json!("Ada Admin"));
        let v = s.js(&format!("return document.querySelector(\"tr[data-id='{id}']\").dataset.version")).await;
        assert_eq!(v, json!(d.version.to_string()), "the row carries the new version");
    }
    // The changed rows are let go, so the next action cannot hit them.
    let still = s.js("return document.querySelectorAll('table.list tbody input.pick:checked').length").await;
    assert_eq!(still, json!(0), "rows that changed are no longer ticked");
    // Rows not selected were left alone.
    let others = s
        .js("return [...document.querySelectorAll('table.list tbody tr')].slice(3).filter(r => r.querySelector('.owner-name').textContent === 'Ada Admin').length")
        .await;
    assert_eq!(others, json!(0));

    // A refusal is reported with the server's message: a stale version.
    let stale = &ids[0];
    s.js(&format!("document.querySelector(\"tr[data-id='{stale}']\").dataset.version = '1'; return true")).await;
    click(&s, "#select-all").await;
    s.until("return document.querySelectorAll('table.list tbody tr.picked').length > 3").await;
    click(&s, "#bulk button[data-action=owner]").await;
    s.until("const r = document.getElementById('bulk-report'); return !!r.querySelector('li')").await;
    let refusal = s.js("return document.querySelector('#bulk-report li').textContent").await;
    assert!(refusal.as_str().unwrap_or("").contains("changed by someone else"), "{refusal}");
    s.screenshot("lists-deals-bulk").await;
    s.close().await;
}

#[tokio::test]
async fn delete_two_people_and_undo() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Desktop, "en").await;
    s.login().await;
    s.goto("/people").await;
    s.wait_for("table.list tbody tr").await;
    let ids = first_ids(&s, 2).await;
    for id in &ids {
        click(&s, &format!("tr[data-id='{id}'] input.pick")).await;
    }
    // Delete asks first; Cancel deletes nothing.
    click(&s, "#bulk button[data-action=delete]").await;
    s.wait_for("#bulk-confirm[open]").await;
    let ask = s.js("return document.getElementById('bulk-confirm-text').textContent").await;
    assert!(ask.as_str().unwrap_or("").contains("Delete the 2 selected"), "{ask}");
    click(&s, "#bulk-confirm button[value=no]").await;
    s.until("return !document.getElementById('bulk-confirm').open").await;
    for id in &ids {
        let p = s.store.person(PersonId(id.parse().expect("id"))).await;
        assert!(p.is_ok(), "person {id} kept after Cancel");
        let hidden = s.js(&format!("return document.querySelector(\"tr[data-id='{id}']\").hidden")).await;
        assert_eq!(hidden, json!(false));
    }
    click(&s, "#bulk button[data-action=delete]").await;
    s.wait_for("#bulk-confirm[open]").await;
    click(&s, "#bulk-confirm button[value=yes]").await;
    for id in &ids {
        s.until(&format!("return document.querySelector(\"tr[data-id='{id}']\").hidden")).await;
        let gone = s.store.person(PersonId(id.parse().expect("id"))).await;
        assert!(gone.is_err(), "person {id} is in the trash");
    }
    s.wait_for("#toast:not([hidden]) button.undo").await;
    let msg = s.js("return document.getElementById('toast').textContent").await;
    assert!(msg.as_str().unwrap_or("").contains("2 deleted"), "{msg}");
    click(&s, "#toast button.undo").await;
    for id in &ids {
        s.until(&format!("return !document.querySelector(\"tr[data-id='{id}']\").hidden")).await;
    }
    s.until("return document.getElementById('bulk-report').textContent.includes('2 restored')").await;
    for id in &ids {
        let p = s.store.person(PersonId(id.parse().expect("id"))).await.expect("restored");
        let v = s.js(&format!("return document.querySelector(\"tr[data-id='{id}']\").dataset.version")).await;
        assert_eq!(v, json!(p.version.to_string()));
    }
    s.close().await;
}

#[tokio::test]
async fn deals_list_fits_a_phone() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Phone, "en").await;
    s.login().await;
    s.goto("/deals").await;
    s.wait_for("table.list tbody tr").await;
    let widths = s.js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
    assert_eq!(widths[0], widths[1], "the page does not scroll sideways: {widths}");
    assert_eq!(widths[1], json!(390));
    let inner = s.js("const w = document.querySelector('.table-wrap'); return w.scrollWidth > w.clientWidth").await;
    assert_eq!(inner, json!(true), "the table scrolls inside its own container");
    s.screenshot("lists-deals-phone").await;
    s.close().await;
}

#[tokio::test]
async fn a_bulk_move_past_open_playbook_steps_is_refused_with_the_steps() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Desktop, "en").await;
    let pipeline = s.store.pipelines().await.expect("pipelines").into_iter().next().expect("default pipeline");
    let at = |name: &str| pipeline.stages.iter().find(|x| x.name == name).expect("stage").id;
    let (booked, proposal) = (at("Demo booked"), at("Proposal sent"));
    // A demo deal in "Demo booked" whose checklist blocks the move.
    let f = dealflow_store::DealFilter {
        stage_id: Some(booked),
        status: Some(dealflow_core::model::DealStatus::Open),
        ..Default::default()
    };
    let deals = s.store.list_deals(&f, dealflow_store::Page { limit: 50, before: None }).await.expect("deals").items;
    let mut blocked = None;
    for d in deals {
        let moves = s.store.deal_moves(d.id).await.expect("moves");
        if let Some(m) = moves.iter().find(|m| m.stage_id == Some(proposal) && !m.allowed) {
            blocked = Some((d, m.open_steps[0].title.clone()));
            break;
        }
    }
    let (deal, step) = blocked.expect("the demo has a deal with open steps in Demo booked");

    s.login().await;
    // Narrowed to the deal by its title: the page sorts and pages as it likes.
    let q: String = deal
        .title
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    s.goto(&format!("/deals?pipeline={}&stage={booked}&status=open&q={q}", pipeline.id)).await;
    s.wait_for(&format!("tr[data-id='{}']", deal.id)).await;
    click(&s, &format!("tr[data-id='{}'] input.pick", deal.id)).await;
    s.js(&format!("document.getElementById('bulk-stage').value = '{}:{proposal}'; return true", pipeline.id)).await;
    click(&s, "#bulk button[data-action=stage]").await;
    s.until("const r = document.getElementById('bulk-report'); return !!r.querySelector('li')").await;
    let refusal = s.js("return document.querySelector('#bulk-report li').textContent").await;
    assert!(refusal.as_str().unwrap_or("").contains(&step), "the refusal names the open step {step:?}: {refusal}");
    let after = s.store.deal(deal.id).await.expect("deal");
    assert_eq!(after.stage_id, booked, "the deal stayed where it was");
    assert_eq!(after.version, deal.version);
    s.close().await;
}
