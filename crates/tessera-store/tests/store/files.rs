//! The SQLite files: who may read them.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chrono::Utc;
use tessera_domain::{NewUser, UserRepository, Username};
use tessera_store::{Database, PoolOptions};

/// A directory that does not exist yet, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let name = format!(
            "tessera_files_{}",
            tessera_domain::random_token::<8>().unwrap()
        );
        Scratch(std::env::temp_dir().join(name))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn write_a_user(url: &str) {
    let db = Database::open(url, &PoolOptions::default()).unwrap();
    let username = Username::parse("alice").unwrap();
    db.insert_user(&NewUser {
        username: &username,
        password_hash: "$2b$04$hash",
        created_at: Utc::now(),
    })
    .unwrap();
}

fn assert_owner_only(path: &Path) {
    assert_eq!(mode(path), 0o600, "{} is {:o}", path.display(), mode(path));
}

/// Every file SQLite keeps next to the database (`-journal`, or `-wal`/`-shm`).
fn side_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().contains("tessera.db-"))
        .collect()
}

#[test]
fn a_new_database_and_its_directory_are_private_to_the_owner() {
    let scratch = Scratch::new();
    let dir = scratch.0.join("data");
    let file = dir.join("tessera.db");
    let url = format!("sqlite://{}", file.display());
    tessera_store::run_migrations(&url).unwrap();
    write_a_user(&url);
    assert_eq!(mode(&dir), 0o700, "the data directory is {:o}", mode(&dir));
    assert_owner_only(&file);
    let side = side_files(&dir);
    assert!(!side.is_empty(), "the journal stays next to the file");
    for path in side {
        assert_owner_only(&path);
    }
}

#[test]
fn a_database_readable_by_others_is_narrowed_when_opened() {
    let scratch = Scratch::new();
    std::fs::create_dir_all(&scratch.0).unwrap();
    let file = scratch.0.join("tessera.db");
    let url = format!("sqlite://{}", file.display());
    tessera_store::run_migrations(&url).unwrap();
    // As versions before this one left it.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    write_a_user(&url);
    assert_owner_only(&file);
    for path in side_files(&scratch.0) {
        assert_owner_only(&path);
    }
}
