//! Unit tests of policy.rs: parsing, scope lookup, identity rules and the
//! requirements that need no signature.

use super::*;

const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn image(s: &str) -> Image {
    let r = ImageReference::try_from(s).unwrap();
    Image::new(&r).unwrap()
}

fn err(text: &str) -> String {
    format!("{:#}", Policy::parse(text).unwrap_err())
}

#[test]
fn parsing() {
    let p = Policy::parse(
        r#"{"default": [{"type": "reject"}],
            "transports": {"docker": {
              "quay.io/a": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k.gpg"}],
              "quay.io/b": [{"type": "signedBy", "keyType": "GPGKeys", "keyPaths": ["/1", "/2"],
                             "signedIdentity": {"type": "exactReference", "dockerReference": "quay.io/x:1"}}],
              "quay.io/c": [{"type": "signedBy", "keyType": "GPGKeys", "keyData": "aGVsbG8=",
                             "signedIdentity": {"type": "remapIdentity", "prefix": "a", "signedPrefix": "b"}}],
              "quay.io/d": [{"type": "sigstoreSigned", "keyPath": "/k.pub"}],
              "": [{"type": "insecureAcceptAnything"}]}}}"#,
    )
    .unwrap();
    assert_eq!(p.default, [Requirement::Reject]);
    let docker = &p.transports["docker"];
    let signed = |scope: &str| match &docker[scope][0] {
        Requirement::SignedBy(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    let a = signed("quay.io/a");
    assert_eq!(a.keys, Keys::Paths(vec!["/k.gpg".into()]));
    assert_eq!(a.identity, Identity::MatchRepoDigestOrExact);
    let b = signed("quay.io/b");
    assert_eq!(b.keys, Keys::Paths(vec!["/1".into(), "/2".into()]));
    let exact = DockerRef::parse("quay.io/x:1").unwrap();
    assert_eq!(b.identity, Identity::ExactReference(exact));
    let c = signed("quay.io/c");
    assert_eq!(c.keys, Keys::Data(b"hello".to_vec()));
    assert_eq!(c.identity, Identity::Unsupported("remapIdentity".into()));
    assert_eq!(
        docker["quay.io/d"],
        [Requirement::Unsupported("sigstoreSigned".into())]
    );
    assert_eq!(docker[""], [Requirement::InsecureAcceptAnything]);
}

#[test]
fn malformed_policies() {
    assert!(err("{").contains("EOF"));
    assert_eq!(err("{}"), "the policy has no \"default\"");
    assert_eq!(
        err(r#"{"default": []}"#),
        "\"default\" is an empty list of requirements"
    );
    assert!(err(r#"{"default": [{"type": "reject"}], "x": 1}"#).contains("unknown key \"x\""));
    assert!(err(r#"{"default": [{"type": "reject", "keyPath": "/k"}]}"#).contains("unknown key"));
    let two_keys = r#"{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/a", "keyData": "eA=="}]}"#;
    assert!(err(two_keys).contains("exactly one of keyPath"));
    let no_key = r#"{"default": [{"type": "signedBy", "keyType": "GPGKeys"}]}"#;
    assert!(err(no_key).contains("exactly one of keyPath"));
    let bad_data = r#"{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyData": "!!"}]}"#;
    assert!(err(bad_data).contains("keyData"));
    let name_only = r#"{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/a",
        "signedIdentity": {"type": "exactReference", "dockerReference": "quay.io/x"}}]}"#;
    assert!(err(name_only).contains("neither a tag nor a digest"));
    let empty_scope =
        r#"{"default": [{"type": "reject"}], "transports": {"docker": {"q.io": []}}}"#;
    assert!(err(empty_scope).contains("scope \"q.io\" of transport \"docker\""));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.json");
    std::fs::write(&path, "{").unwrap();
    let e = format!("{:#}", Policy::load(&path).unwrap_err());
    assert!(
        e.starts_with(&format!(
            "Reading the signature policy {}: ",
            path.display()
        )),
        "{e}"
    );
    let e = format!("{:#}", Policy::load(&dir.path().join("none")).unwrap_err());
    assert!(e.contains("No such file"), "{e}");
}

#[test]
fn scope_lookup_most_specific_first() {
    let p = Policy::parse(
        r#"{"default": [{"type": "reject"}],
            "transports": {
              "docker": {
                "h:5000/ns/repo:v1": [{"type": "insecureAcceptAnything"}],
                "h:5000/ns": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/ns"}],
                "h:5000": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/host"}],
                "": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/any"}]},
              "oci": {"/srv/images": [{"type": "insecureAcceptAnything"}]},
              "dir": {"": [{"type": "insecureAcceptAnything"}]}}}"#,
    )
    .unwrap();
    let key = |s: &str| match p.requirements(&image(s)).unwrap() {
        [Requirement::SignedBy(SignedBy {
            keys: Keys::Paths(k),
            ..
        })] => k[0].clone(),
        [other] => format!("{other:?}"),
        other => panic!("{other:?}"),
    };
    assert_eq!(key("docker://h:5000/ns/repo:v1"), "InsecureAcceptAnything");
    assert_eq!(key("docker://h:5000/ns/repo:v2"), "/ns");
    assert_eq!(key("docker://h:5000/ns/sub/repo:v1"), "/ns");
    assert_eq!(key("docker://h:5000/other:v1"), "/host");
    assert_eq!(key("docker://quay.io/ns/repo:v1"), "/any");
    assert_eq!(key("oci:/srv/images/os:v1"), "InsecureAcceptAnything");
    assert_eq!(key("oci:/srv/other:v1"), "Reject");
    assert_eq!(key("oci:/srv/images:v1"), "InsecureAcceptAnything");
    assert_eq!(key("oci-archive:/srv/images/a.tar:v1"), "Reject");
    assert_eq!(key("dir:/x"), "InsecureAcceptAnything");
    assert_eq!(key("docker-archive:/x.tar"), "Reject");
}

#[test]
fn images_as_containers_image_names_them() {
    let i = image("docker://busybox");
    assert_eq!(
        (i.transport, i.name.as_str()),
        ("docker", "docker://busybox:latest")
    );
    assert_eq!(i.scopes[0], "docker.io/library/busybox:latest");
    let i = image("oci:/srv/os:v1");
    assert_eq!((i.transport, i.name.as_str()), ("oci", "oci:/srv/os:v1"));
    assert_eq!(i.scopes, ["/srv/os", "/srv"]);
    assert_eq!(image("oci:/srv/os").name, "oci:/srv/os:");
    assert_eq!(image("oci-archive:/a.tar").scopes, ["/a.tar"]);
    assert!(image("containers-storage:x").scopes.is_empty());
    let p = Policy::parse(
        r#"{"default": [{"type": "reject"}], "transports": {"containers-storage": {"x": [{"type": "reject"}]}}}"#,
    )
    .unwrap();
    let e = p.requirements(&image("containers-storage:y")).unwrap_err();
    assert!(e.to_string().contains("not supported"), "{e}");
}

#[test]
fn identity_rules() {
    let tagged = DockerRef::parse("q.io/ns/repo:v1").unwrap();
    let digested = DockerRef::parse(&format!("q.io/ns/repo@{D}")).unwrap();
    let ok = |id: &Identity, i: &DockerRef, sig: &str| identity_accepted(id, Some(i), sig);
    let id = Identity::MatchRepoDigestOrExact;
    assert!(ok(&id, &tagged, "q.io/ns/repo:v1"));
    assert!(!ok(&id, &tagged, "q.io/ns/repo:v2"));
    assert!(!ok(&id, &tagged, "q.io/ns/repo"));
    assert!(ok(&id, &digested, "q.io/ns/repo:anything"));
    assert!(!ok(&id, &digested, "q.io/ns/other:v1"));
    assert!(!ok(&id, &digested, "q.io/ns/repo"));
    let id = Identity::MatchExact;
    assert!(ok(&id, &tagged, "q.io/ns/repo:v1"));
    assert!(!ok(&id, &digested, "q.io/ns/repo:v1"));
    assert!(ok(&id, &digested, &format!("q.io/ns/repo@{D}")));
    let id = Identity::MatchRepository;
    assert!(ok(&id, &tagged, "q.io/ns/repo:v2"));
    assert!(ok(&id, &tagged, "q.io/ns/repo"));
    assert!(!ok(&id, &tagged, "q.io/ns/other:v1"));
    assert!(!identity_accepted(&id, None, "q.io/ns/repo:v1"));
    let id = Identity::ExactReference(DockerRef::parse("q.io/x:1").unwrap());
    assert!(ok(&id, &tagged, "q.io/x:1"));
    assert!(identity_accepted(&id, None, "q.io/x:1"));
    assert!(!ok(&id, &tagged, "q.io/ns/repo:v1"));
    let id = Identity::ExactRepository(DockerRef::parse("q.io/x").unwrap());
    assert!(ok(&id, &tagged, "q.io/x:7"));
    assert!(!ok(&id, &tagged, "q.io/ns/repo:v1"));
    // Normalized on both sides; garbage never matches.
    let id = Identity::MatchRepoDigestOrExact;
    let hub = DockerRef::parse("busybox").unwrap().with_default_tag();
    assert!(ok(&id, &hub, "docker.io/library/busybox:latest"));
    assert!(ok(&id, &hub, "busybox:latest"));
    assert!(!ok(&id, &hub, "Not A Reference"));
    assert!(!ok(
        &Identity::Unsupported("remapIdentity".into()),
        &tagged,
        "q.io/ns/repo:v1"
    ));
}

#[test]
fn requirements_without_signatures() {
    let check = |reqs: Vec<Requirement>, s: &str| {
        Check {
            image: image(s),
            requirements: reqs,
        }
        .enforce(D)
    };
    assert!(check(vec![Requirement::InsecureAcceptAnything], "oci:/x:v1").is_ok());
    let e = check(
        vec![Requirement::InsecureAcceptAnything, Requirement::Reject],
        "oci:/x:v1",
    );
    assert_eq!(
        e.unwrap_err().to_string(),
        "Source image rejected: Running image oci:/x:v1 is rejected by policy."
    );
    let e = check(
        vec![Requirement::Unsupported("sigstoreSigned".into())],
        "oci:/x:v1",
    );
    assert_eq!(
        e.unwrap_err().to_string(),
        "Source image rejected: policy requirement type \"sigstoreSigned\" is not supported"
    );
    let signed = |keys, identity| {
        Requirement::SignedBy(SignedBy {
            key_type: "GPGKeys".into(),
            keys,
            identity,
        })
    };
    let gpg = signed(
        Keys::Paths(vec!["/nonexistent".into()]),
        Identity::MatchRepoDigestOrExact,
    );
    // oci: images have no signatures.
    let e = check(vec![gpg], "oci:/x:v1").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Source image rejected: A signature was required, but no signature exists"
    );
    let remap = signed(
        Keys::Data(vec![]),
        Identity::Unsupported("remapIdentity".into()),
    );
    let e = check(vec![remap], "oci:/x:v1").unwrap_err();
    assert!(
        e.to_string()
            .contains("signedIdentity type \"remapIdentity\" is not supported"),
        "{e}"
    );
    let x509 = Requirement::SignedBy(SignedBy {
        key_type: "X509Certificates".into(),
        keys: Keys::Data(vec![]),
        identity: Identity::MatchExact,
    });
    let e = check(vec![x509], "oci:/x:v1").unwrap_err();
    assert!(
        e.to_string()
            .contains("keyType \"X509Certificates\" is not supported"),
        "{e}"
    );
}
