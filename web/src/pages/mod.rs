//! One module per page; each is shown by the router's gate in `crate::routes`.

mod account;
mod delete_account;
mod frame;
mod home;
mod load;
mod not_found;
mod password;
mod register;
mod sessions;
mod sign_in;
mod sign_out;

pub use account::Account;
pub use delete_account::DeleteAccount;
pub use frame::Page;
pub use home::Home;
pub use not_found::NotFound;
pub use password::ChangePassword;
pub use register::Register;
pub use sessions::Sessions;
pub use sign_in::{Prefill, SignIn};
pub use sign_out::SignOut;
