//! Custom audiences: creation, reading, membership after add, remove and replace.

use serde_json::{Value, json};

use crate::helpers::{AD_ACCOUNT, TOKEN, graph_error, sha, spawn_sim};

fn emails(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| sha(&format!("{n}@example.com")))
        .collect()
}

fn member_emails(members: &[Value], key: &str) -> Vec<String> {
    let mut found: Vec<String> = members
        .iter()
        .filter_map(|m| m[key].as_str().map(str::to_owned))
        .collect();
    found.sort();
    found
}

fn sorted(mut values: Vec<String>) -> Vec<String> {
    values.sort();
    values
}

#[tokio::test]
async fn a_created_audience_reads_back_with_name_counts_and_status() {
    let app = spawn_sim().await;
    let id = app.create_audience("VIP customers").await;

    let body: Value = app
        .client
        .get(app.graph(&id))
        .query(&[("access_token", TOKEN)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["name"], "VIP customers");
    assert_eq!(body["approximate_count_lower_bound"], 0);
    assert_eq!(body["approximate_count_upper_bound"], 0);
    assert_eq!(body["operation_status"]["code"], 200);
    assert_eq!(body["operation_status"]["description"], "Normal");
}

#[tokio::test]
async fn reading_an_audience_with_fields_returns_those_fields_only() {
    let app = spawn_sim().await;
    let id = app.create_audience("Lapsed").await;

    let response = app
        .client
        .get(app.graph(&id))
        .query(&[
            ("access_token", TOKEN),
            ("fields", "account_id,customer_file_source,subtype"),
        ])
        .send()
        .await
        .unwrap();

    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"id": id, "account_id": AD_ACCOUNT, "customer_file_source": "USER_PROVIDED_ONLY", "subtype": "CUSTOM"})
    );
    let unknown = app
        .client
        .get(app.graph(&id))
        .query(&[("access_token", TOKEN), ("fields", "shoe_size")])
        .send()
        .await
        .unwrap();
    let (status, error) = graph_error(unknown).await;
    assert_eq!((status, error["code"].clone()), (400, json!(100)));
}

#[tokio::test]
async fn creating_an_audience_without_a_name_or_with_another_subtype_is_refused() {
    let app = spawn_sim().await;
    let url = app.graph(&format!("act_{AD_ACCOUNT}/customaudiences"));
    for form in [
        vec![("access_token", TOKEN), ("subtype", "CUSTOM")],
        vec![
            ("access_token", TOKEN),
            ("name", "x"),
            ("subtype", "LOOKALIKE"),
        ],
        vec![
            ("access_token", TOKEN),
            ("name", "x"),
            ("customer_file_source", "SOMEONE"),
        ],
    ] {
        let response = app.client.post(&url).form(&form).send().await.unwrap();
        let (status, error) = graph_error(response).await;
        assert_eq!(
            (status, error["code"].clone()),
            (400, json!(100)),
            "{form:?}"
        );
    }
    assert!(app.sim.state().audience_ids().is_empty());
}

#[tokio::test]
async fn added_rows_become_members_keyed_by_schema() {
    let app = spawn_sim().await;
    let id = app.create_audience("All").await;
    let hashes = emails(&["a", "b"]);

    let response = app
        .add_users(&id, json!({"schema": "EMAIL_SHA256", "data": hashes}))
        .await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["audience_id"], id.as_str());
    assert_eq!(body["num_received"], 2);
    assert_eq!(body["num_invalid_entries"], 0);
    assert!(body["session_id"].as_str().unwrap().parse::<u64>().is_ok());
    assert_eq!(body["invalid_entry_samples"], json!({}));
    assert_eq!(
        member_emails(&app.members(&id).await, "EMAIL_SHA256"),
        sorted(hashes)
    );
}

#[tokio::test]
async fn adding_the_same_row_twice_keeps_one_member() {
    let app = spawn_sim().await;
    let id = app.create_audience("All").await;
    let payload =
        json!({"schema": ["EMAIL", "PHONE"], "data": [[sha("a@x.io"), sha("15551234567")]]});

    app.add_users(&id, payload.clone()).await;
    app.add_users(&id, payload).await;

    let members = app.members(&id).await;
    assert_eq!(
        members,
        vec![json!({"EMAIL": sha("a@x.io"), "PHONE": sha("15551234567")})]
    );
}

#[tokio::test]
async fn invalid_rows_are_counted_and_sampled_and_the_rest_applied() {
    let app = spawn_sim().await;
    let id = app.create_audience("Mixed").await;
    let good = [sha("a@x.io"), sha("ann")];
    let payload = json!({
        "schema": ["EMAIL", "FN", "EXTERN_ID"],
        "data": [
            [good[0], good[1], "cust-1"],
            [sha("b@x.io"), sha("bob")],
            ["carol@x.io", sha("carol"), "cust-3"],
            ["", "", ""]
        ]
    });

    let body: Value = app.add_users(&id, payload).await.json().await.unwrap();

    assert_eq!(body["num_received"], 4);
    assert_eq!(body["num_invalid_entries"], 3);
    assert_eq!(body["invalid_entry_samples"].as_object().unwrap().len(), 3);
    assert_eq!(
        app.members(&id).await,
        vec![json!({"EMAIL": good[0], "FN": good[1], "EXTERN_ID": "cust-1"})]
    );
    let stats = app.stats().await;
    assert_eq!(stats["audience_rows"]["received"], 4);
    assert_eq!(stats["audience_rows"]["invalid"], 3);
}

#[tokio::test]
async fn more_than_ten_thousand_rows_are_refused_with_code_100_and_nothing_applied() {
    let app = spawn_sim().await;
    let id = app.create_audience("Big").await;
    let rows: Vec<String> = (0..10_001).map(|i| sha(&i.to_string())).collect();

    let over = app
        .add_users(&id, json!({"schema": "EMAIL_SHA256", "data": rows}))
        .await;
    let full = app
        .add_users(
            &id,
            json!({"schema": "EMAIL_SHA256", "data": rows[..10_000]}),
        )
        .await;

    let (status, error) = graph_error(over).await;
    assert_eq!((status, error["code"].clone()), (400, json!(100)));
    assert_eq!(full.status(), 200);
    assert_eq!(app.members(&id).await.len(), 10_000);
}

#[tokio::test]
async fn an_unknown_schema_key_or_missing_payload_is_refused_with_code_100() {
    let app = spawn_sim().await;
    let id = app.create_audience("Bad").await;

    let unknown_key = app
        .add_users(
            &id,
            json!({"schema": ["EMAIL", "SHOE_SIZE"], "data": [[sha("a"), "42"]]}),
        )
        .await;
    let no_payload = app
        .client
        .post(app.graph(&format!("{id}/users")))
        .form(&[("access_token", TOKEN)])
        .send()
        .await
        .unwrap();

    for response in [unknown_key, no_payload] {
        let (status, error) = graph_error(response).await;
        assert_eq!((status, error["code"].clone()), (400, json!(100)));
    }
    assert!(app.members(&id).await.is_empty());
}

#[tokio::test]
async fn delete_with_the_payload_in_the_query_string_removes_members() {
    let app = spawn_sim().await;
    let id = app.create_audience("All").await;
    let hashes = emails(&["a", "b", "c"]);
    app.add_users(&id, json!({"schema": "EMAIL_SHA256", "data": hashes}))
        .await;

    let response = app
        .remove_users(&id, json!({"schema": "EMAIL_SHA256", "data": [hashes[1]]}))
        .await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["num_received"], 1);
    assert_eq!(
        member_emails(&app.members(&id).await, "EMAIL_SHA256"),
        sorted(vec![hashes[0].clone(), hashes[2].clone()])
    );
}

#[tokio::test]
async fn post_with_method_delete_and_delete_with_a_json_body_both_remove_members() {
    let app = spawn_sim().await;
    let id = app.create_audience("All").await;
    let hashes = emails(&["a", "b", "c"]);
    app.add_users(&id, json!({"schema": "EMAIL_SHA256", "data": hashes}))
        .await;

    let by_override = app
        .client
        .post(app.graph(&format!("{id}/users")))
        .form(&[
            ("method", "DELETE".to_owned()),
            (
                "payload",
                json!({"schema": "EMAIL_SHA256", "data": [hashes[0]]}).to_string(),
            ),
            ("access_token", TOKEN.to_owned()),
        ])
        .send()
        .await
        .unwrap();
    let by_json = app
        .client
        .delete(app.graph(&format!("{id}/users")))
        .bearer_auth(TOKEN)
        .json(&json!({"payload": {"schema": "EMAIL_SHA256", "data": [hashes[1]]}}))
        .send()
        .await
        .unwrap();

    assert_eq!(by_override.status(), 200);
    assert_eq!(by_json.status(), 200);
    assert_eq!(
        member_emails(&app.members(&id).await, "EMAIL_SHA256"),
        vec![hashes[2].clone()]
    );
}

#[tokio::test]
async fn removing_by_email_removes_the_person_added_with_a_multi_key_row() {
    let app = spawn_sim().await;
    let id = app.create_audience("All").await;
    app.add_users(
        &id,
        json!({"schema": ["EMAIL", "FN", "COUNTRY"], "data": [[sha("a@x.io"), sha("ann"), sha("us")], [sha("b@x.io"), sha("ann"), sha("us")]]}),
    )
    .await;

    app.remove_users(
        &id,
        json!({"schema": "EMAIL_SHA256", "data": [sha("a@x.io")]}),
    )
    .await;

    let members = app.members(&id).await;
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["EMAIL"], sha("b@x.io"));
}

#[tokio::test]
async fn users_calls_with_a_session_report_the_running_total() {
    let app = spawn_sim().await;
    let id = app.create_audience("All").await;
    let send = |n: usize, seq: u64| {
        let rows: Vec<String> = (0..n).map(|i| sha(&format!("{seq}-{i}"))).collect();
        app.client
            .post(app.graph(&format!("{id}/users")))
            .form(&[
                (
                    "payload",
                    json!({"schema": "EMAIL_SHA256", "data": rows}).to_string(),
                ),
                (
                    "session",
                    json!({"session_id": 77, "batch_seq": seq, "last_batch_flag": seq == 2})
                        .to_string(),
                ),
                ("access_token", TOKEN.to_owned()),
            ])
            .send()
    };

    let first: Value = send(3, 1).await.unwrap().json().await.unwrap();
    let second: Value = send(2, 2).await.unwrap().json().await.unwrap();

    assert_eq!(first["session_id"], "77");
    assert_eq!(first["num_received"], 3);
    assert_eq!(second["num_received"], 5);
    assert_eq!(app.members(&id).await.len(), 5);
}

#[tokio::test]
async fn usersreplace_makes_the_members_exactly_the_sessions_rows_at_the_last_batch() {
    let app = spawn_sim().await;
    let id = app.create_audience("Replace me").await;
    let old = emails(&["old1", "old2"]);
    let new = emails(&["new1", "new2", "new3"]);
    app.add_users(&id, json!({"schema": "EMAIL_SHA256", "data": old}))
        .await;

    let first: Value = app
        .replace_users(
            &id,
            json!({"session_id": 5, "batch_seq": 1, "last_batch_flag": false}),
            json!({"schema": "EMAIL_SHA256", "data": new[..2]}),
        )
        .await
        .json()
        .await
        .unwrap();
    // Mid-session: the old members stay, the audience says a replace is running, /users waits.
    assert_eq!(
        member_emails(&app.members(&id).await, "EMAIL_SHA256"),
        sorted(old.clone())
    );
    let status: Value = app
        .client
        .get(app.graph(&id))
        .query(&[("access_token", TOKEN), ("fields", "operation_status")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(status["operation_status"]["code"], 200);
    let blocked = app
        .add_users(&id, json!({"schema": "EMAIL_SHA256", "data": [sha("z")]}))
        .await;
    let (code, error) = graph_error(blocked).await;
    assert_eq!(
        (code, error["code"].clone(), error["error_subcode"].clone()),
        (400, json!(2650), json!(1_870_145))
    );

    let last: Value = app
        .replace_users(
            &id,
            json!({"session_id": 5, "batch_seq": 2, "last_batch_flag": true}),
            json!({"schema": "EMAIL_SHA256", "data": [new[2], "not-a-hash"]}),
        )
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(first["num_received"], 2);
    assert_eq!(first["account_id"], AD_ACCOUNT);
    assert_eq!(last["session_id"], "5");
    assert_eq!(last["num_received"], 4);
    assert_eq!(last["num_invalid_entries"], 1);
    assert_eq!(
        member_emails(&app.members(&id).await, "EMAIL_SHA256"),
        sorted(new)
    );
}

#[tokio::test]
async fn usersreplace_errors_carry_code_2650_and_the_documented_subcodes() {
    let app = spawn_sim().await;
    let id = app.create_audience("Replace").await;
    let payload = json!({"schema": "EMAIL_SHA256", "data": [sha("a")]});
    let expect = |response: reqwest::Response, subcode: u64| async move {
        let (status, error) = graph_error(response).await;
        assert_eq!(status, 400);
        assert_eq!(error["code"], 2650, "{error}");
        assert_eq!(error["error_subcode"], subcode, "{error}");
    };

    // No session yet and batch 2: the first batch is missing.
    expect(
        app.replace_users(
            &id,
            json!({"session_id": 1, "batch_seq": 2}),
            payload.clone(),
        )
        .await,
        1_870_147,
    )
    .await;
    // Session 1 running; session 2 must wait.
    assert_eq!(
        app.replace_users(
            &id,
            json!({"session_id": 1, "batch_seq": 1}),
            payload.clone()
        )
        .await
        .status(),
        200
    );
    expect(
        app.replace_users(
            &id,
            json!({"session_id": 2, "batch_seq": 1}),
            payload.clone(),
        )
        .await,
        1_870_145,
    )
    .await;
    // Session 1 ends; sending to it again is refused.
    assert_eq!(
        app.replace_users(
            &id,
            json!({"session_id": 1, "batch_seq": 2, "last_batch_flag": true}),
            payload.clone()
        )
        .await
        .status(),
        200
    );
    expect(
        app.replace_users(&id, json!({"session_id": 1, "batch_seq": 3}), payload)
            .await,
        1_870_159,
    )
    .await;
}

#[tokio::test]
async fn a_replace_session_times_out_after_ninety_minutes_and_keeps_what_was_uploaded() {
    let app = spawn_sim().await;
    let id = app.create_audience("Slow").await;
    app.add_users(
        &id,
        json!({"schema": "EMAIL_SHA256", "data": emails(&["old"])}),
    )
    .await;
    let uploaded = emails(&["new"]);
    app.replace_users(
        &id,
        json!({"session_id": 9, "batch_seq": 1}),
        json!({"schema": "EMAIL_SHA256", "data": uploaded}),
    )
    .await;

    app.set_clock(91 * 60).await;
    let late = app
        .replace_users(
            &id,
            json!({"session_id": 9, "batch_seq": 2, "last_batch_flag": true}),
            json!({"schema": "EMAIL_SHA256", "data": emails(&["later"])}),
        )
        .await;

    let (status, error) = graph_error(late).await;
    assert_eq!(
        (
            status,
            error["code"].clone(),
            error["error_subcode"].clone()
        ),
        (400, json!(2650), json!(1_870_158))
    );
    assert_eq!(
        member_emails(&app.members(&id).await, "EMAIL_SHA256"),
        uploaded
    );
}

#[tokio::test]
async fn a_replace_batch_must_keep_the_sessions_schema() {
    let app = spawn_sim().await;
    let id = app.create_audience("Schema").await;
    app.replace_users(
        &id,
        json!({"session_id": 3, "batch_seq": 1}),
        json!({"schema": "EMAIL_SHA256", "data": [sha("a")]}),
    )
    .await;

    let changed = app
        .replace_users(
            &id,
            json!({"session_id": 3, "batch_seq": 2}),
            json!({"schema": ["EMAIL", "FN"], "data": [[sha("a"), sha("b")]]}),
        )
        .await;

    let (status, error) = graph_error(changed).await;
    assert_eq!((status, error["code"].clone()), (400, json!(100)));
}

#[tokio::test]
async fn an_audience_of_another_ad_account_is_invisible_to_the_token() {
    let app = spawn_sim().await;
    app.sim
        .state()
        .register_account(&audience_meta_sim::AccountConfig::new(
            "other-token",
            "3000",
            ["4000"],
        ))
        .unwrap();
    let id = app.create_audience("Mine").await;

    let response = app
        .client
        .post(app.graph(&format!("{id}/users")))
        .form(&[
            (
                "payload",
                json!({"schema": "EMAIL_SHA256", "data": [sha("a")]}).to_string(),
            ),
            ("access_token", "other-token".to_owned()),
        ])
        .send()
        .await
        .unwrap();

    let (status, error) = graph_error(response).await;
    assert_eq!(
        (
            status,
            error["code"].clone(),
            error["error_subcode"].clone()
        ),
        (400, json!(100), json!(33))
    );
    assert!(app.members(&id).await.is_empty());
}
