//! What the forms share: the form's state and its submit button ([`use_form`], [`Form`]),
//! each field's state and wiring ([`use_field`]) and the labelled input that shows it
//! ([`Field`]), and the mapping of a failed request onto the form.

use tessera_api::codes;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::api::ApiError;
use crate::busy::{Busy, use_busy};
use crate::toast::Toasts;
use crate::validation::sentence;

/// A field's own check: why its text cannot be sent, or `None` when it can.
pub type Check = fn(&str) -> Option<String>;

/// What typing in a field does to the server's last answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typing {
    /// Forgets what the server said about this field.
    ClearsField,
    /// Forgets everything the server said, for forms whose answer is about all their
    /// fields at once (Sign in's "invalid username or password").
    ClearsAll,
}

/// A form as a whole, from [`use_form`]: the server's last answer, and whether a request
/// is under way.
#[derive(Clone, PartialEq)]
pub struct FormState {
    server: UseStateHandle<ServerErrors>,
    busy: Busy,
    typing: Typing,
}

/// A form with no answer yet, whose fields forget the server's answer as `typing` says.
#[hook]
pub fn use_form(typing: Typing) -> FormState {
    FormState {
        server: use_state(ServerErrors::default),
        busy: use_busy(),
        typing,
    }
}

impl FormState {
    /// The form's `onsubmit`: unless a request is under way, checks `fields` as if each
    /// had been left and focuses the first that fails; once all pass, forgets the server's
    /// last answer and calls `send` with the form and what the fields hold, which starts
    /// the request.
    pub fn onsubmit<const N: usize>(
        &self,
        fields: [FieldState; N],
        send: impl Fn(&FormState, [String; N]) + 'static,
    ) -> Callback<SubmitEvent> {
        let form = self.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if form.busy.is_busy() {
                return;
            }
            for field in &fields {
                field.touched.set(true);
            }
            if let Some(field) = fields.iter().find(|field| !field.valid) {
                return field.focus();
            }
            form.busy.start();
            form.server.set(ServerErrors::default());
            send(&form, fields.each_ref().map(FieldState::value));
        })
    }

    /// Shows why the request failed: next to the field the server named, else on the form,
    /// and also as the toast `outage` when nothing on the form would explain it. Focuses
    /// the first of `focus` that the server named. The form can then be sent again.
    pub fn failed(
        &self,
        error: &ApiError,
        toasts: &Toasts,
        outage: &'static str,
        focus: &[FieldState],
    ) {
        if is_outage(error) {
            toasts.error(outage);
        }
        let errors = ServerErrors::from_error(error);
        if let Some(field) = focus
            .iter()
            .find(|field| errors.about(field.name).is_some())
        {
            field.focus();
        }
        self.server.set(errors);
        self.busy.done();
    }
}

#[derive(Properties, PartialEq)]
pub struct FormProps {
    pub form: FormState,
    pub onsubmit: Callback<SubmitEvent>,
    /// The submit button's text.
    pub submit: AttrValue,
    /// Whether submitting destroys something (the button says so by its colour too).
    #[prop_or_default]
    pub danger: bool,
    /// The fields.
    pub children: Html,
}

/// A form's fields, then its own message (announced to screen readers when it appears)
/// and the submit button, disabled while a request is under way.
#[component]
pub fn Form(props: &FormProps) -> Html {
    let busy = props.form.busy.is_busy();
    let message = match &props.form.server.form {
        Some(message) => html! {
            <p id={FORM_MESSAGE_ID} class="form-error" role="alert">{ sentence(message) }</p>
        },
        None => Html::default(),
    };
    html! {
        <form onsubmit={props.onsubmit.clone()} novalidate=true>
            { props.children.clone() }
            { message }
            <button type="submit" disabled={busy}
                class={classes!("button", if props.danger { "danger" } else { "primary" })}
                aria-busy={busy.to_string()}>
                { props.submit.clone() }
            </button>
        </form>
    }
}

/// The id of a form's own message, which its fields name in `aria-describedby`.
const FORM_MESSAGE_ID: &str = "form-message";

/// One field of a form, from [`use_field`]: what was typed, the message to show, and the
/// callbacks a [`Field`] needs.
#[derive(Clone, PartialEq)]
pub struct FieldState {
    /// The input's id and name, and the request's field name the server's problems use.
    name: &'static str,
    value: UseStateHandle<String>,
    /// Whether the field has been checked: left with something in it, or submitted.
    touched: UseStateHandle<bool>,
    /// Whether the field's own check passes on what it holds now.
    valid: bool,
    error: Option<String>,
    /// Whether the form shows a message of its own, and whether that message is about
    /// this field too (Sign in's "invalid username or password" is about both).
    form_message: Option<bool>,
    node: NodeRef,
    oninput: Callback<String>,
    onblur: Callback<()>,
}

impl FieldState {
    /// What the field holds.
    pub fn value(&self) -> String {
        (*self.value).clone()
    }

    /// Focuses the field, if it is mounted.
    pub fn focus(&self) {
        if let Some(input) = self.node.cast::<HtmlInputElement>() {
            let _ = input.focus();
        }
    }
}

/// The state of `form`'s field `name`, empty at first, whose text must pass `check`
/// before the form is sent. Its message is its own check's once it has been left or
/// submitted, else what the server said about it.
#[hook]
pub fn use_field(form: &FormState, name: &'static str, check: Check) -> FieldState {
    use_prefilled_field(form, name, check, String::new())
}

/// [`use_field`] for a field that starts as `initial`.
#[hook]
pub fn use_prefilled_field(
    form: &FormState,
    name: &'static str,
    check: Check,
    initial: String,
) -> FieldState {
    let value = use_state(move || initial);
    let touched = use_state(|| false);
    let node = use_node_ref();
    let own = check(&value);
    let valid = own.is_none();
    let error = own.filter(|_| *touched).or_else(|| form.server.about(name));
    let form_message = form
        .server
        .form
        .as_ref()
        .map(|_| form.typing == Typing::ClearsAll);
    let oninput = {
        let (value, server, typing) = (value.clone(), form.server.clone(), form.typing);
        Callback::from(move |text: String| {
            value.set(text);
            server.set(match typing {
                Typing::ClearsField => server.without(name),
                Typing::ClearsAll => ServerErrors::default(),
            });
        })
    };
    // Leaving a field checks it, unless it is still empty: a message appearing under an
    // untouched field would shift the page under a click on the way elsewhere.
    let onblur = {
        let (value, touched) = (value.clone(), touched.clone());
        Callback::from(move |()| {
            if !value.is_empty() {
                touched.set(true);
            }
        })
    };
    FieldState {
        name,
        value,
        touched,
        valid,
        error,
        form_message,
        node,
        oninput,
        onblur,
    }
}

/// Focuses `field` when the page appears: where the user has something to type.
#[hook]
pub fn use_focus_first(field: &FieldState) {
    let field = field.clone();
    use_effect_with((), move |_| field.focus());
}

#[derive(Properties, PartialEq)]
pub struct FieldProps {
    pub field: FieldState,
    pub label: AttrValue,
    #[prop_or(AttrValue::Static("text"))]
    pub input_type: AttrValue,
    pub autocomplete: AttrValue,
    /// Shown under the field while there is no error.
    #[prop_or_default]
    pub hint: Option<AttrValue>,
}

/// A labelled input with a hint or an error under it, tied together for screen readers
/// (with the form's own message too); a password can be shown while it is typed.
#[component]
pub fn Field(props: &FieldProps) -> Html {
    let field = &props.field;
    let shown = use_state(|| false);
    let is_password = props.input_type == "password";
    let input_type = if is_password && *shown {
        AttrValue::Static("text")
    } else {
        props.input_type.clone()
    };
    let oninput = field
        .oninput
        .reform(|event: InputEvent| event.target_unchecked_into::<HtmlInputElement>().value());
    let onblur = field.onblur.reform(|_: FocusEvent| ());
    let message_id = format!("{}-message", field.name);
    let message = match (&field.error, &props.hint) {
        (Some(error), _) => html! {
            <p id={message_id.clone()} class="field-error">{ sentence(error) }</p>
        },
        (None, Some(hint)) => html! {
            <p id={message_id.clone()} class="field-hint">{ hint.clone() }</p>
        },
        (None, None) => Html::default(),
    };
    let own_message = (field.error.is_some() || props.hint.is_some()).then_some(message_id);
    let described: Vec<String> = own_message
        .into_iter()
        .chain(field.form_message.map(|_| FORM_MESSAGE_ID.to_owned()))
        .collect();
    let described = (!described.is_empty()).then(|| described.join(" "));
    let invalid = field.error.is_some() || field.form_message == Some(true);
    let toggle = is_password.then(|| {
        let onclick = {
            let shown = shown.clone();
            Callback::from(move |_: MouseEvent| shown.set(!*shown))
        };
        html! {
            <button type="button" class="button ghost reveal" aria-controls={field.name}
                aria-pressed={shown.to_string()} {onclick}>
                { "Show" }<span class="visually-hidden">{ " " }{ props.label.clone() }</span>
            </button>
        }
    });
    html! {
        <div class="field">
            <label for={field.name}>{ props.label.clone() }</label>
            <div class="input-row">
            <input
                id={field.name}
                name={field.name}
                type={input_type}
                value={field.value()}
                autocomplete={props.autocomplete.clone()}
                autocapitalize="none"
                spellcheck="false"
                class={classes!(invalid.then_some("invalid"))}
                aria-invalid={invalid.to_string()}
                aria-describedby={described}
                ref={field.node.clone()}
                {oninput}
                {onblur}
            />
            { toggle }
            </div>
            { message }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct HiddenUsernameProps {
    pub username: Option<String>,
}

/// A hidden `username` field in a form that changes or checks a password, so that password
/// managers know whose password it is.
#[component]
pub fn HiddenUsername(props: &HiddenUsernameProps) -> Html {
    html! {
        <input type="text" name="username" autocomplete="username"
            value={props.username.clone().unwrap_or_default()} readonly=true hidden=true />
    }
}

#[derive(Properties, PartialEq)]
pub struct CheckboxProps {
    /// Holds `"yes"` while ticked, else nothing, so a [`Check`] can require it.
    pub field: FieldState,
    pub label: AttrValue,
}

/// A labelled checkbox that a form must have ticked, with its error tied to it.
#[component]
pub fn Checkbox(props: &CheckboxProps) -> Html {
    let field = &props.field;
    let onchange = field.oninput.reform(|event: Event| {
        let ticked = event.target_unchecked_into::<HtmlInputElement>().checked();
        if ticked { "yes" } else { "" }.to_owned()
    });
    let message_id = format!("{}-message", field.name);
    let message = field.error.as_ref().map(|error| {
        html! { <p id={message_id.clone()} class="field-error">{ sentence(error) }</p> }
    });
    html! {
        <div class="field checkbox">
            <input type="checkbox" id={field.name} name={field.name}
                checked={!field.value.is_empty()}
                aria-invalid={field.error.is_some().to_string()}
                aria-describedby={field.error.is_some().then_some(message_id)}
                ref={field.node.clone()} {onchange} />
            <label for={field.name}>{ props.label.clone() }</label>
            { message }
        </div>
    }
}

/// Where the server's answer to a form goes: next to the field it names, else above the
/// submit button.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerErrors {
    /// The field named by the server (`username`, `new_password`, …) and its message.
    field: Option<(String, String)>,
    form: Option<String>,
}

impl ServerErrors {
    pub fn from_error(error: &ApiError) -> ServerErrors {
        let message = error.message();
        // The code says which field a conflict is about even if `field` were left out.
        let field = error
            .field()
            .or_else(|| (error.code() == Some(codes::USERNAME_TAKEN)).then_some("username"));
        match field {
            Some(field) => ServerErrors {
                field: Some((field.to_owned(), message)),
                form: None,
            },
            None => ServerErrors {
                field: None,
                form: Some(message),
            },
        }
    }

    /// The server's message about `field`, if it sent one.
    pub fn about(&self, field: &str) -> Option<String> {
        self.field
            .as_ref()
            .filter(|(name, _)| name == field)
            .map(|(_, message)| message.clone())
    }

    /// These errors without the one about `field`: the user has changed it since.
    pub fn without(&self, field: &str) -> ServerErrors {
        ServerErrors {
            field: self.field.clone().filter(|(name, _)| name != field),
            form: self.form.clone(),
        }
    }
}

/// Whether a failure is not about what the user typed (the network, the server), so it
/// also deserves a toast: nothing on the form would explain it.
fn is_outage(error: &ApiError) -> bool {
    error.status().is_none_or(|status| status >= 500)
}

#[cfg(test)]
mod tests {
    use tessera_api::Problem;

    use super::*;

    fn problem(status: u16, code: &str, field: Option<&str>, detail: &str) -> ApiError {
        ApiError::refused(Problem {
            type_uri: format!("/problems/{code}"),
            title: String::new(),
            status,
            detail: detail.into(),
            code: code.into(),
            field: field.map(str::to_owned),
        })
    }

    #[test]
    fn field_problems_go_next_to_their_field() {
        let taken = problem(409, "username_taken", Some("username"), "taken");
        let errors = ServerErrors::from_error(&taken);
        assert_eq!(errors.about("username").as_deref(), Some("taken"));
        assert_eq!(errors.about("password"), None);
        assert_eq!(errors.form, None);
        let taken_without_field = problem(409, "username_taken", None, "taken");
        assert_eq!(
            ServerErrors::from_error(&taken_without_field)
                .about("username")
                .as_deref(),
            Some("taken")
        );
        let weak = problem(400, "invalid_field", Some("password"), "too common");
        assert_eq!(
            ServerErrors::from_error(&weak).about("password").as_deref(),
            Some("too common")
        );
        let wrong = problem(
            400,
            "invalid_field",
            Some("current_password"),
            "the password is wrong",
        );
        let errors = ServerErrors::from_error(&wrong);
        assert_eq!(
            errors.about("current_password").as_deref(),
            Some("the password is wrong")
        );
        assert_eq!(errors.about("new_password"), None);
        assert_eq!(errors.without("new_password"), errors);
        assert_eq!(errors.without("current_password"), ServerErrors::default());
    }

    #[test]
    fn other_problems_go_to_the_form() {
        let wrong = problem(
            401,
            "invalid_credentials",
            None,
            "invalid username or password",
        );
        let errors = ServerErrors::from_error(&wrong);
        assert_eq!(errors.form.as_deref(), Some("invalid username or password"));
        assert_eq!(errors.about("username"), None);
        assert!(!is_outage(&wrong));
    }

    #[test]
    fn outages_are_network_failures_and_server_errors() {
        assert!(is_outage(&ApiError::Network("offline".into())));
        assert!(is_outage(&problem(503, "service_unavailable", None, "x")));
        assert!(!is_outage(&problem(
            400,
            "invalid_field",
            Some("username"),
            "x"
        )));
    }
}
