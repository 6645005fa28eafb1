//! What every page shares: its card, its `<title>`, and its heading, which takes the
//! focus when the user arrives by navigation so that screen readers announce the page.

use std::sync::atomic::{AtomicBool, Ordering};

use web_sys::HtmlElement;
use yew::prelude::*;

/// Whether a page has been shown since the app started. The first page of a load keeps
/// the browser's own focus (the first Tab reaches the skip link); later ones take it.
static SHOWN_ONE: AtomicBool = AtomicBool::new(false);

/// The document title for a page called `title`.
pub fn document_title(title: &str) -> String {
    format!("{title} · Tessera")
}

#[derive(Properties, PartialEq)]
pub struct PageProps {
    /// The page's name: the `<title>` and, unless `heading` is given, the heading.
    pub title: AttrValue,
    /// A heading other than the title (Home greets the user by name).
    #[prop_or_default]
    pub heading: Option<Html>,
    /// The page's own class, for its styles.
    pub class: &'static str,
    /// Whether the page is still loading what it shows.
    #[prop_or_default]
    pub busy: bool,
    pub children: Html,
}

/// A page: a card labelled by its heading, titled, and focused on arrival.
#[component]
pub fn Page(props: &PageProps) -> Html {
    let heading_ref = use_node_ref();
    {
        let title = props.title.clone();
        use_effect_with(title, |title| {
            if let Some(document) = web_sys::window().and_then(|w| w.document()) {
                document.set_title(&document_title(title));
            }
        });
    }
    {
        let heading_ref = heading_ref.clone();
        use_effect_with((), move |_| {
            if SHOWN_ONE.swap(true, Ordering::Relaxed) {
                if let Some(heading) = heading_ref.cast::<HtmlElement>() {
                    let _ = heading.focus();
                }
            }
        });
    }
    let heading = props
        .heading
        .clone()
        .unwrap_or_else(|| html! { { props.title.clone() } });
    html! {
        <section class={classes!("card", props.class)} aria-labelledby="page-title"
            aria-busy={props.busy.to_string()}>
            <h1 id="page-title" tabindex="-1" ref={heading_ref}>{ heading }</h1>
            { props.children.clone() }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_title_names_the_page_then_the_app() {
        assert_eq!(document_title("Sessions"), "Sessions · Tessera");
    }
}
