//! Notes' Markdown rendered to HTML that is safe to embed in the deal page.

/// Renders a note's Markdown to HTML that is safe to embed: raw HTML in the
/// source shows as text, and links whose URL scheme is not http, https or
/// mailto point nowhere (`#`). Images become plain links to the image (with
/// the alt text, else the URL, as their text): an image loads when the note
/// is read, so an external one would tell its host who read the note and
/// when (the content security policy blocks them anyway).
pub fn render_markdown(src: &str) -> String {
    use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
    let opts = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS;
    let parsed: Vec<Event<'_>> = Parser::new_ext(src, opts).collect();
    let mut events = Vec::with_capacity(parsed.len());
    for (i, ev) in parsed.iter().cloned().enumerate() {
        match ev {
            Event::Html(s) | Event::InlineHtml(s) => events.push(Event::Text(s)),
            Event::Start(Tag::HtmlBlock) => events.push(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::HtmlBlock) => events.push(Event::End(TagEnd::Paragraph)),
            Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                events.push(Event::Start(Tag::Link { link_type, dest_url: safe_url(dest_url), title, id }));
            }
            Event::Start(Tag::Image { dest_url, title, id, .. }) => {
                let text = dest_url.clone();
                events.push(Event::Start(Tag::Link {
                    link_type: LinkType::Inline,
                    dest_url: safe_url(dest_url),
                    title,
                    id,
                }));
                if matches!(parsed.get(i + 1), Some(Event::End(TagEnd::Image))) {
                    events.push(Event::Text(text));
                }
            }
            Event::End(TagEnd::Image) => events.push(Event::End(TagEnd::Link)),
            other => events.push(other),
        }
    }
    let mut out = String::with_capacity(src.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut out, events.into_iter());
    out
}

/// The URL if it is relative or its scheme is http, https or mailto; `#`
/// otherwise. Browsers ignore whitespace and control characters inside a
/// scheme (`java\tscript:`), so those are dropped before the check.
fn safe_url(url: pulldown_cmark::CowStr<'_>) -> pulldown_cmark::CowStr<'_> {
    let cleaned: String = url.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
    let lower = cleaned.to_ascii_lowercase();
    let scheme_end = lower.find(':');
    let path_start = lower.find(['/', '?', '#']);
    let has_scheme = match (scheme_end, path_start) {
        (Some(c), Some(p)) => c < p,
        (Some(_), None) => true,
        _ => false,
    };
    if !has_scheme {
        return url;
    }
    if ["http:", "https:", "mailto:"].iter().any(|s| lower.starts_with(s)) {
        url
    } else {
        pulldown_cmark::CowStr::Borrowed("#")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_formatting() {
        let h = render_markdown("**bold** and _em_\n\n- a\n- b");
        assert!(h.contains("<strong>bold</strong>"), "{h}");
        assert!(h.contains("<em>em</em>") && h.contains("<li>a</li>"), "{h}");
    }

    #[test]
    fn markdown_images_become_links() {
        let h = render_markdown("![logo](https://tracker.example/p.gif) and ![](https://tracker.example/q.gif)");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains(r#"<a href="https://tracker.example/p.gif">logo</a>"#), "{h}");
        assert!(h.contains(r#"<a href="https://tracker.example/q.gif">https://tracker.example/q.gif</a>"#), "{h}");
    }

    #[test]
    fn markdown_drops_raw_html() {
        for src in [
            "<script>alert(1)</script>",
            "hi <script>alert(1)</script> there",
            "<div>\n<script>alert(1)</script>\n</div>",
            "<img src=x onerror=alert(1)>",
            "a <b onclick=\"x()\">b</b>",
        ] {
            let h = render_markdown(src);
            assert!(!h.contains("<script"), "{src} → {h}");
            assert!(!h.contains("<img"), "{src} → {h}");
            assert!(!h.contains("<b "), "{src} → {h}");
            assert!(!h.contains("<div"), "{src} → {h}");
        }
        assert!(render_markdown("<script>alert(1)</script>").contains("&lt;script&gt;"));
    }

    #[test]
    fn markdown_neutralises_unsafe_links() {
        for src in [
            "[x](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x](java&#9;script:alert(1))",
            "[x](<java script:alert(1)>)",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](vbscript:msgbox)",
            "![i](javascript:alert(1))",
            "<javascript:alert(1)>",
            "[x][r]\n\n[r]: javascript:alert(1)",
        ] {
            let h = render_markdown(src);
            // Every URL attribute points nowhere; the text may show the URL.
            for attr in ["href=\"", "src=\""] {
                for (i, _) in h.match_indices(attr) {
                    let url = h[i + attr.len()..].split('"').next().unwrap_or_default();
                    assert_eq!(url, "#", "{src} → {h}");
                }
            }
            assert!(h.contains("href=\"#\"") || h.contains("src=\"#\""), "{src} → {h}");
        }
        let ok = render_markdown("[a](https://example.com/x?y=1) [m](mailto:a@example.com) [r](/deals/1)");
        assert!(ok.contains(r#"href="https://example.com/x?y=1""#), "{ok}");
        assert!(ok.contains(r#"href="mailto:a@example.com""#), "{ok}");
        assert!(ok.contains(r#"href="/deals/1""#), "{ok}");
    }
}
