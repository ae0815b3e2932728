//! Building pages: escaping and the one layout every page shares. Plain HTML and a little
//! CSS; scripts only where they clearly help (the location on `/doors`, passkeys, the
//! overview's live updates), and every page works without them and with a screen reader.

use std::fmt::Write as _;

pub use crate::i18n::Lang;

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Every page's style, allowed by the Content-Security-Policy by its hash.
pub(super) const STYLE: &str = "
html{scroll-padding-bottom:5rem}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1b1f24;line-height:1.5;overflow-wrap:break-word}
header{background:#1b1f24;color:#fff;padding:.75rem 1rem}header a{color:#fff;text-decoration:none;font-weight:600}
main{max-width:34rem;margin:1.5rem auto;padding:0 1rem}
section,form.card{background:#fff;border-radius:.5rem;padding:1rem 1.25rem;margin-bottom:1rem;box-shadow:0 1px 2px #0002}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #9aa3ad;border-radius:.375rem}
textarea{width:100%;box-sizing:border-box;padding:.6rem;font:inherit;border:1px solid #9aa3ad;border-radius:.375rem}
input:focus,button:focus{outline:3px solid #2f6fde;outline-offset:1px}
button{margin-top:1rem;padding:.6rem 1.1rem;font-size:1rem;border:0;border-radius:.375rem;background:#2f6fde;color:#fff;cursor:pointer}
button.secondary{background:#5a6470}button.danger{background:#b42318}
.error{background:#fdecea;border:1px solid #b42318;color:#7a1a12;padding:.6rem .8rem;border-radius:.375rem}
.notice{background:#e8f1fe;border:1px solid #2f6fde;padding:.6rem .8rem;border-radius:.375rem}
.hint{color:#5a6470;font-size:.9rem}ul.devices,ul.rows{list-style:none;padding:0}ul.devices li,ul.rows li{padding:.5rem 0;border-bottom:1px solid #e3e6ea}
main.wide{max-width:64rem}nav{margin:-.5rem 0 1rem;font-size:.95rem}nav a[aria-current]{font-weight:700;color:#1b1f24}
table{width:100%;border-collapse:collapse;font-size:.95rem}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e3e6ea;vertical-align:top}
td.summary{font-size:.85rem;max-width:24rem}div.scroll{overflow-x:auto}div.scroll:focus{outline:3px solid #2f6fde}
fieldset{border:1px solid #d5d9de;border-radius:.375rem;margin-top:.75rem}label.check{font-weight:400;margin:.25rem 0}
label.check input{width:auto}select{padding:.5rem;font-size:1rem;border-radius:.375rem;max-width:100%}form.inline{display:inline-block;margin-right:.5rem}
button.small{padding:.3rem .7rem;font-size:.85rem;margin-top:0}dt{font-weight:600}dd{margin:0 0 .5rem}
code.pin{font-size:1.5rem;letter-spacing:.2em;font-weight:700}
.state{display:inline-block;padding:.1rem .55rem;border-radius:1rem;font-weight:600;font-size:.85rem;background:#e3e6ea}
.state.unlocked{background:#d9f2e3;color:#11633a}.state.open{background:#e8f1fe;color:#1a4fa3}
.state.held_open,.state.forced_open{background:#fdecea;color:#7a1a12}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:.75rem;margin-bottom:1rem}
a.tile{display:block;background:#fff;border-radius:.5rem;padding:.9rem 1.1rem;box-shadow:0 1px 2px #0002;color:inherit;text-decoration:none;border-left:.35rem solid #9aa3ad}
a.tile:hover,a.tile:focus{box-shadow:0 0 0 3px #2f6fde}a.tile.ok{border-left-color:#1f8a4c}a.tile.bad{border-left-color:#b42318}
a.tile .figure{display:block;font-size:2.2rem;font-weight:700;line-height:1.1}a.tile .hint{display:block;margin-top:.25rem}
svg.chart{width:100%;max-width:40rem;height:auto;display:block}svg.chart line{stroke:#d5d9de}svg.chart text{font-size:11px;fill:#5a6470}
.granted{fill:#1f8a4c;background:#1f8a4c}.denied{fill:#b42318;background:#b42318}
.key{display:inline-block;width:.8rem;height:.8rem;border-radius:.15rem;vertical-align:middle;margin-left:.5rem}
ol.steps{list-style:none;padding:0}ol.steps li{padding:.3rem 0}ol.steps li.done{color:#5a6470}
header{display:flex;align-items:center;gap:1rem}
nav.side{background:#fff;border-bottom:1px solid #d5d9de;margin:0;font-size:.95rem}
nav.side p{margin:0;padding:.6rem 1rem 0;font-weight:700}nav.side p a{color:inherit}
nav.side ul{list-style:none;margin:0;padding:.4rem .5rem;display:flex;overflow-x:auto;white-space:nowrap;gap:.15rem;scrollbar-width:thin}
nav.side li a{display:block;padding:.4rem .75rem;border-radius:1rem;color:#1b1f24;text-decoration:none}
nav.side li a:hover{background:#f0f2f5}nav.side a[aria-current]{background:#e8f1fe;color:#1a4fa3;font-weight:700}
nav.side li.mine{margin-left:auto}
@media (min-width:60rem){.shell{display:flex;align-items:flex-start}
nav.side{position:sticky;top:0;flex:none;width:14rem;min-height:100vh;border:0;border-right:1px solid #d5d9de}
nav.side ul{display:block;padding:.5rem}nav.side li a{border-radius:.375rem}nav.side li.mine{margin:1rem 0 0;border-top:1px solid #e3e6ea;padding-top:.5rem}
.shell main.wide{flex:1;margin:1.5rem 2rem;min-width:0}}
nav.tabbar{position:fixed;left:0;right:0;bottom:0;z-index:5;display:flex;background:#fff;border-top:1px solid #d5d9de;margin:0}
nav.tabbar a{flex:1;text-align:center;padding:.4rem 0 .5rem;font-size:.8rem;color:#4a535d;text-decoration:none}
nav.tabbar a[aria-current]{color:#1a4fa3;font-weight:700}nav.tabbar svg{display:block;margin:0 auto .1rem;width:1.5rem;height:1.5rem;fill:none;stroke:currentColor;stroke-width:2}
body.app{padding-bottom:4.5rem}
@media (min-width:60rem){nav.tabbar{position:static;margin-left:auto;background:none;border:0;gap:.5rem}
nav.tabbar a{color:#fff;font-size:.95rem;padding:.25rem .75rem;border-radius:.375rem;white-space:nowrap}nav.tabbar a[aria-current]{color:#1b1f24;background:#fff}
nav.tabbar svg{display:none}body.app{padding-bottom:0}}
.toast{position:fixed;left:50%;bottom:5.5rem;transform:translateX(-50%);z-index:6;margin:0;background:#1b1f24;color:#fff;padding:.6rem 1.2rem;border-radius:.5rem;box-shadow:0 2px 10px #0005;animation:toast 6s forwards}
@keyframes toast{0%,85%{opacity:1}100%{opacity:0;visibility:hidden}}
details.confirm{display:inline-block;margin:0 .5rem}details.confirm summary{list-style:none;display:inline-block;cursor:pointer;padding:.3rem .7rem;font-size:.85rem;border-radius:.375rem;background:#b42318;color:#fff}
details.confirm summary::-webkit-details-marker{display:none}details.confirm summary:focus{outline:3px solid #2f6fde;outline-offset:1px}
details.confirm[open]{display:block;min-width:13rem;background:#fdecea;border:1px solid #b42318;border-radius:.375rem;padding:.5rem .75rem;margin:.5rem 0}
details.confirm[open] summary{background:#5a6470}details.confirm p{margin:.5rem 0}
form.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin-bottom:.75rem}form.filters label{margin:0 0 .25rem}form.filters button{margin-top:0}form.filters .grow{flex:1 1 14rem}
nav.tabs{display:flex;flex-wrap:wrap;gap:.4rem;margin:-.25rem 0 1rem}nav.tabs a{padding:.35rem .9rem;border-radius:1rem;background:#fff;color:#1b1f24;text-decoration:none;box-shadow:0 1px 2px #0002}
nav.tabs a[aria-current]{background:#1a4fa3;color:#fff}
.field-error{display:block;color:#7a1a12;font-size:.9rem;margin-top:.25rem}input[aria-invalid],select[aria-invalid],textarea[aria-invalid]{border:2px solid #b42318}
";

/// Scrolls the side navigation's row to the current section on a phone, where the row is
/// wider than the screen; without it the row starts at the beginning.
macro_rules! nav_script {
    () => {
        "var here = document.querySelector('nav.side [aria-current]');\n\
         if (here) { here.scrollIntoView({ inline: 'center', block: 'nearest' }); }\n"
    };
}

/// `nav_script!`, for the Content-Security-Policy's hash.
pub(crate) const NAV_SCRIPT: &str = nav_script!();

/// A whole page around `body`: for signed-out people (sign-in, guest links, invitations)
/// and the steps of a flow.
pub fn page(title: &str, body: &str) -> String {
    page_in(Lang::En, title, body)
}

/// `page` in `lang`.
pub fn page_in(lang: Lang, title: &str, body: &str) -> String {
    layout(title, Frame::Plain(lang), body)
}

/// The member app's tabs, one of which a member page is under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Doors,
    Dashboard,
    Profile,
}

impl Tab {
    /// Each tab's place, address, message id and icon.
    const ALL: [(Tab, &'static str, &'static str, &'static str); 3] = [
        // The icons are outlines drawn in a 24-unit box: a door, four tiles, a person.
        (
            Tab::Doors,
            "/doors",
            "tab-doors",
            "<path d=\"M6 21V3h12v18M3 21h18\"/><circle cx=\"14.5\" cy=\"12\" r=\"1\"/>",
        ),
        (
            Tab::Dashboard,
            "/admin",
            "tab-dashboard",
            "<rect x=\"3\" y=\"3\" width=\"7\" height=\"7\"/><rect x=\"14\" y=\"3\" \
             width=\"7\" height=\"7\"/><rect x=\"3\" y=\"14\" width=\"7\" height=\"7\"/>\
             <rect x=\"14\" y=\"14\" width=\"7\" height=\"7\"/>",
        ),
        (
            Tab::Profile,
            "/me",
            "tab-profile",
            "<circle cx=\"12\" cy=\"8\" r=\"4\"/><path d=\"M4 21c0-4 4-6 8-6s8 2 8 6\"/>",
        ),
    ];
}

/// A page of the member app in `lang`, under `tab`: the tabs sit at the bottom of a phone's
/// screen and in the header of a wide one.
pub fn app_page(lang: Lang, title: &str, tab: Tab, body: &str) -> String {
    layout(title, Frame::App(tab, lang), body)
}

/// A wide page for the dashboard: `nav` (the side navigation, or nothing on an error page)
/// beside the title and `body`.
pub fn page_with_nav(title: &str, nav: &str, body: &str) -> String {
    layout(title, Frame::Dashboard(nav), body)
}

/// `page_with_nav` that the browser loads again every `secs` seconds (no script needed).
pub fn page_with_nav_refreshing(title: &str, nav: &str, body: &str, secs: u32) -> String {
    let page = page_with_nav(title, nav, body);
    page.replacen(
        "<title>",
        &format!("<meta http-equiv=\"refresh\" content=\"{secs}\"><title>"),
        1,
    )
}

enum Frame<'a> {
    Plain(Lang),
    App(Tab, Lang),
    Dashboard(&'a str),
}

fn layout(title: &str, frame: Frame, body: &str) -> String {
    let title = escape(title);
    let mut tabs = String::new();
    let lang = match frame {
        Frame::App(_, lang) | Frame::Plain(lang) => lang,
        Frame::Dashboard(_) => Lang::En,
    };
    let (body_class, before_main, main_class, after_main) = match frame {
        Frame::Plain(_) => ("", "", "", ""),
        Frame::App(current, _) => {
            tabs.push_str("<nav class=\"tabbar\" aria-label=\"Lintel\">");
            for (tab, href, label, icon) in Tab::ALL {
                let here = if tab == current {
                    " aria-current=\"page\""
                } else {
                    ""
                };
                let _ = write!(
                    tabs,
                    "<a href=\"{href}\"{here}><svg viewBox=\"0 0 24 24\" aria-hidden=\"true\">\
                     {icon}</svg>{}</a>",
                    escape(&lang.word(label))
                );
            }
            tabs.push_str("</nav>");
            (" class=\"app\"", "", "", "")
        }
        Frame::Dashboard("") => ("", "", " class=\"wide\"", ""),
        Frame::Dashboard(nav) => (
            "",
            nav,
            " class=\"wide\"",
            concat!("</div><script>", nav_script!(), "</script>"),
        ),
    };
    let shell = if before_main.is_empty() {
        ""
    } else {
        "<div class=\"shell\">"
    };
    let script = if body.contains(" data-copy=\"") {
        format!("<script>{COPY_SCRIPT}</script>")
    } else {
        String::new()
    };
    format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Lintel</title><style>{STYLE}</style></head>\
         <body{body_class}><header><a href=\"/\">Lintel</a>{tabs}</header>{shell}{before_main}\
         <main{main_class}><h1>{title}</h1>{body}</main>{after_main}{script}</body></html>",
        lang.tag()
    )
}

/// A destructive action's button, which first asks: `label` opens a box that says `warning`
/// and holds the form whose button does it. Works without scripts and from the keyboard
/// (a disclosure: Enter or Space on the summary).
pub fn confirm_form(action: &str, csrf: &str, label: &str, warning: &str) -> String {
    format!(
        "<details class=\"confirm\"><summary>{label}</summary><form method=\"post\" \
         action=\"{action}\">{}<p>{}</p><button class=\"danger small\">{label}</button> \
         </form></details>",
        hidden("csrf", csrf),
        escape(warning)
    )
}

/// What a form that worked did, said once on the page it leads back to (`?done=`): the
/// word is one of a fixed few, never text from the address.
pub fn toast(done: Option<&str>) -> &'static str {
    match done {
        Some("saved") => "<p class=\"toast\" role=\"status\">Saved.</p>",
        Some("deleted") => "<p class=\"toast\" role=\"status\">Deleted.</p>",
        Some("revoked") => "<p class=\"toast\" role=\"status\">Revoked.</p>",
        Some("sent") => "<p class=\"toast\" role=\"status\">Sent.</p>",
        Some("removed") => "<p class=\"toast\" role=\"status\">Removed.</p>",
        Some("unlocked") => "<p class=\"toast\" role=\"status\">Unlocked.</p>",
        _ => "",
    }
}

/// A Copy button for the element `id` (an input's value, else its text). Hidden until
/// `COPY_SCRIPT` finds a clipboard to write to, so without scripts there is no dead button
/// (and the value is still there to select).
pub fn copy_button(id: &str) -> String {
    format!(
        "<button type=\"button\" class=\"small secondary\" data-copy=\"{id}\" hidden>Copy</button>"
    )
}

/// Makes the page's Copy buttons work; in pages that have one. Allowed by the
/// Content-Security-Policy by its hash.
pub(crate) const COPY_SCRIPT: &str = "
document.querySelectorAll('button[data-copy]').forEach(function (button) {
  if (!navigator.clipboard || !window.isSecureContext) { return; }
  button.hidden = false;
  button.addEventListener('click', function () {
    var source = document.getElementById(button.dataset.copy);
    var text = (source.value || source.textContent).trim();
    navigator.clipboard.writeText(text).then(
      function () { button.textContent = 'Copied'; },
      function () { button.textContent = 'Not copied: select it and copy'; });
  });
});
";

/// The Save button of a form, or nothing on a read-only one (`lock` set).
pub fn save_button(lock: &str) -> &'static str {
    if lock.is_empty() {
        "<button>Save</button>"
    } else {
        ""
    }
}

/// An error box announced to screen readers, or nothing.
pub fn error_box(error: Option<&str>) -> String {
    error.map_or_else(String::new, |e| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))
    })
}

/// A labelled input.
pub fn input(name: &str, label: &str, kind: &str, value: &str, extra: &str) -> String {
    input_as(name, name, label, kind, value, extra)
}

/// A labelled input whose id differs from its name: for a page with two forms that take the
/// same field, since ids must be unique for labels to find their input.
pub fn input_as(id: &str, name: &str, label: &str, kind: &str, value: &str, extra: &str) -> String {
    format!(
        "<label for=\"{id}\">{}</label><input id=\"{id}\" name=\"{name}\" type=\"{kind}\" \
         value=\"{}\" {extra}>",
        escape(label),
        escape(value)
    )
}

/// A hidden form field.
pub fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        escape(value)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_break_out_of_its_element_or_attribute() {
        assert_eq!(
            escape("<script>alert(\"x\")</script> & 'y'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        let field = input("email", "Email", "email", "\"><img src=x>", "");
        assert!(!field.contains("<img"), "{field}");
    }
}
