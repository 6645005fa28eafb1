//! What the Sign in and Create account forms share: a labelled field with its message, and
//! the mapping of a failed request onto the form.

use tessera_api::codes;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::api::ApiError;
use crate::validation::sentence;

#[derive(Properties, PartialEq)]
pub struct FieldProps {
    /// The input's id and name.
    pub id: AttrValue,
    pub label: AttrValue,
    #[prop_or(AttrValue::Static("text"))]
    pub input_type: AttrValue,
    pub value: AttrValue,
    pub autocomplete: AttrValue,
    /// Shown under the field while there is no error.
    #[prop_or_default]
    pub hint: Option<AttrValue>,
    #[prop_or_default]
    pub error: Option<String>,
    pub oninput: Callback<String>,
    pub onblur: Callback<()>,
    #[prop_or_default]
    pub node_ref: NodeRef,
}

/// A labelled input with a hint or an error under it, tied together for screen readers.
#[component]
pub fn Field(props: &FieldProps) -> Html {
    let oninput = props
        .oninput
        .reform(|event: InputEvent| event.target_unchecked_into::<HtmlInputElement>().value());
    let onblur = props.onblur.reform(|_: FocusEvent| ());
    let message_id = format!("{}-message", props.id);
    let message = match (&props.error, &props.hint) {
        (Some(error), _) => html! {
            <p id={message_id.clone()} class="field-error">{ sentence(error) }</p>
        },
        (None, Some(hint)) => html! {
            <p id={message_id.clone()} class="field-hint">{ hint.clone() }</p>
        },
        (None, None) => Html::default(),
    };
    let described = (props.error.is_some() || props.hint.is_some()).then_some(message_id);
    html! {
        <div class="field">
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            <input
                id={props.id.clone()}
                name={props.id.clone()}
                type={props.input_type.clone()}
                value={props.value.clone()}
                autocomplete={props.autocomplete.clone()}
                autocapitalize="none"
                spellcheck="false"
                class={classes!(props.error.is_some().then_some("invalid"))}
                aria-invalid={props.error.is_some().to_string()}
                aria-describedby={described}
                ref={props.node_ref.clone()}
                {oninput}
                {onblur}
            />
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
    pub form: Option<String>,
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
pub fn is_outage(error: &ApiError) -> bool {
    error.status().is_none_or(|status| status >= 500)
}

/// The form-level message, announced to screen readers when it appears.
pub fn form_error(message: &Option<String>) -> Html {
    match message {
        Some(message) => html! { <p class="form-error" role="alert">{ sentence(message) }</p> },
        None => Html::default(),
    }
}

/// Focuses the input behind `node`, if it is mounted.
pub fn focus(node: &NodeRef) {
    if let Some(input) = node.cast::<HtmlInputElement>() {
        let _ = input.focus();
    }
}

#[cfg(test)]
mod tests {
    use tessera_api::Problem;

    use super::*;

    fn problem(status: u16, code: &str, field: Option<&str>, detail: &str) -> ApiError {
        ApiError::Status(Box::new(Problem {
            type_uri: format!("/problems/{code}"),
            title: String::new(),
            status,
            detail: detail.into(),
            code: code.into(),
            field: field.map(str::to_owned),
        }))
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
