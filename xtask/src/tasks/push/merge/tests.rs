//! Unit tests of `push --merge`'s plans, its manifest checks and the pushed index check.

use super::*;

fn d(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

#[test]
fn podman_and_docker_plans_name_exactly_the_digests() {
    let tagged = ImageRef::parse("127.0.0.1:5000/homelab/python-base:sha-abc1234").unwrap();
    let sources = [tagged.with_digest(&d('a')), tagged.with_digest(&d('b'))];
    let lines = |engine| -> Vec<String> {
        plan(engine, &tagged, &sources, true, "/t/m")
            .iter()
            .map(|c| c.argv().join(" "))
            .collect()
    };
    let repo = "127.0.0.1:5000/homelab/python-base";
    assert_eq!(
        lines(Engine::Docker),
        [format!(
            "docker buildx imagetools create --tag {repo}:sha-abc1234 {repo}@{} {repo}@{}",
            d('a'),
            d('b')
        )]
    );
    assert_eq!(
        lines(Engine::Podman),
        [
            format!("podman manifest create {repo}:sha-abc1234"),
            format!(
                "podman manifest add --tls-verify=false {repo}:sha-abc1234 docker://{repo}@{}",
                d('a')
            ),
            format!(
                "podman manifest add --tls-verify=false {repo}:sha-abc1234 docker://{repo}@{}",
                d('b')
            ),
            format!(
                "podman manifest push --all --tls-verify=false --digestfile /t/m \
                 {repo}:sha-abc1234 docker://{repo}:sha-abc1234"
            ),
        ]
    );
}

#[test]
fn single_platform_images_and_their_platform() {
    let image = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "config":{"digest":"sha256:c"},"layers":[]}"#;
    single_image(image).unwrap();
    let index = r#"{"schemaVersion":2,"manifests":[{"digest":"sha256:a"}]}"#;
    let err = single_image(index).unwrap_err().to_string();
    assert!(err.contains("is an index"), "{err}");
    assert!(single_image("{}").is_err() && single_image("nope").is_err());

    assert!(same_platform("linux/arm64/v8", "linux/arm64"));
    assert!(!same_platform("linux/amd64", "linux/arm64"));
    assert!(!same_platform("linux/arm/v7", "linux/arm/v6"));
}

#[test]
fn the_index_must_hold_exactly_the_digests() {
    let index = |digests: &[String]| {
        let m: Vec<String> = digests
            .iter()
            .map(|x| format!(r#"{{"digest":"{x}","platform":{{"os":"linux"}}}}"#))
            .chain([format!(
                r#"{{"digest":"{}","annotations":{{"vnd.docker.reference.type":"attestation-manifest"}}}}"#,
                d('f')
            )])
            .collect();
        format!(r#"{{"manifests":[{}]}}"#, m.join(","))
    };
    check_index(&index(&[d('b'), d('a')]), &[d('a'), d('b')]).unwrap();
    let err = check_index(&index(&[d('a')]), &[d('a'), d('b')]).unwrap_err();
    assert!(
        err.to_string().contains("but the digest files name"),
        "{err}"
    );
    assert!(check_index(&index(&[d('a'), d('b'), d('c')]), &[d('a'), d('b')]).is_err());
    assert!(check_index(r#"{"config":{}}"#, &[d('a')]).is_err());
}
