//! Error pages in real Chromium: a missing deal and a rep on the settings
//! page are shown inside the app's layout, with the navigation and a link to
//! the board, in the user's language; the site's icon is served.

use crate::harness::{Screen, enabled, start};
use dealflow_core::model::{NewUser, Role};
use dealflow_store::Actor;
use fantoccini::Locator;
use serde_json::json;

#[tokio::test]
async fn error_pages_sit_in_the_layout_in_both_languages() {
    if !enabled() {
        return;
    }
    let s = start(false, Screen::Desktop, "en").await;
    s.login().await;

    // A missing deal: 404, inside the layout, with a way back to the board.
    s.goto("/deals/1").await;
    s.wait_for("header.top nav").await;
    assert_eq!(s.js("return document.querySelector('main h1').textContent").await, json!("Not found"));
    assert_eq!(s.js("return !!document.querySelector(\"main a[href='/board']\")").await, json!(true));
    assert_eq!(s.js("return fetch('/deals/1').then(r => r.status)").await, json!(404));
    s.screenshot("error-not-found").await;

    // The icon browsers ask for on every page.
    let icon = s.js("return fetch('/favicon.ico').then(r => [r.status, r.headers.get('content-type')])").await;
    assert_eq!(icon, json!([200, "image/x-icon"]));

    // A rep who reads Chinese opens the settings page: 403, in Chinese.
    dealflow_server::api::users::add_user(
        &s.store,
        &Actor::system(),
        NewUser {
            email: "rep@example.com".into(),
            name: "Rita Rep".into(),
            role: Role::Rep,
            password: "a long rep password".into(),
            locale: Some("zh-CN".into()),
        },
    )
    .await
    .expect("rep");
    s.client.find(Locator::Css("form.logout button")).await.expect("sign out").click().await.expect("click");
    s.wait_for("input[name=email]").await;
    s.goto("/login").await;
    s.client
        .find(Locator::Css("input[name=email]"))
        .await
        .expect("email")
        .send_keys("rep@example.com")
        .await
        .expect("type");
    s.client
        .find(Locator::Css("input[name=password]"))
        .await
        .expect("pw")
        .send_keys("a long rep password")
        .await
        .expect("type");
    s.client.find(Locator::Css("form button[type=submit]")).await.expect("submit").click().await.expect("click");
    s.wait_for("main .board, main .filters").await;
    s.goto("/settings").await;
    s.wait_for("header.top nav").await;
    assert_eq!(s.js("return document.documentElement.lang").await, json!("zh-CN"));
    assert_eq!(s.js("return document.querySelector('main h1').textContent").await, json!("无权访问"));
    let back = s.js("return document.querySelector(\"main a[href='/board']\").textContent").await;
    assert_eq!(back, json!("返回看板"));
    assert_eq!(s.js("return fetch('/settings').then(r => r.status)").await, json!(403));
    s.screenshot("error-forbidden-zh").await;
    s.close().await;
}
