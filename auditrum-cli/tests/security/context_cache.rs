//! Finding 5: the context function caches the transaction's context row id in settings any
//! role can set by hand. A hand-set cache must not make an event point at another
//! transaction's context, or at none.

use diesel::connection::SimpleConnection;

use crate::{count, Scene};

#[test]
fn a_hand_set_context_cache_is_ignored() {
    let mut scene = Scene::new();
    scene.harden();
    let mut as_app = scene.as_app();
    // Statements of two rows: a one-row statement keeps its context on its event and
    // reads no cache; statements of several rows use the cached context row.
    as_app
        .batch_execute(
            r#"BEGIN; SET LOCAL auditrum.context = '{"user_id": "victim"}';
               INSERT INTO app.items VALUES (1, 'a'), (2, 'a'); COMMIT;"#,
        )
        .unwrap();
    let victim = count(&mut scene.operator, "SELECT max(id) FROM auditlog_context");
    let forged = [
        // Point at the victim's context row, for the transaction and for the session.
        format!(
            r#"BEGIN; SET LOCAL auditrum.context = '{{"user_id": "attacker"}}';
               SET LOCAL auditrum.cache_public_auditlog_source = '{{"user_id": "attacker"}}';
               SET LOCAL auditrum.cache_public_auditlog_id = '{victim}';
               UPDATE app.items SET body = 'b'; COMMIT;"#
        ),
        format!(
            r#"SET auditrum.cache_public_auditlog_source = '{{"user_id": "attacker"}}';
               SET auditrum.cache_public_auditlog_id = '{victim}';
               BEGIN; SET LOCAL auditrum.context = '{{"user_id": "attacker"}}';
               UPDATE app.items SET body = 'c'; COMMIT;"#
        ),
        // Point at no row at all.
        r#"BEGIN; SET LOCAL auditrum.context = '{"user_id": "attacker"}';
           SET LOCAL auditrum.cache_public_auditlog_source = '{"user_id": "attacker"}';
           SET LOCAL auditrum.cache_public_auditlog_id = '999999999';
           UPDATE app.items SET body = 'd'; COMMIT;"#
            .to_owned(),
    ];
    for attack in &forged {
        as_app
            .batch_execute(attack)
            .unwrap_or_else(|e| panic!("{attack}: {e}"));
        let user = count(
            &mut scene.operator,
            "SELECT count(*) FROM auditlog e JOIN auditlog_context c ON c.id = e.context_id
             WHERE e.id = (SELECT max(id) FROM auditlog) AND c.context->>'user_id' = 'attacker'
               AND c.txid = e.txid",
        );
        assert_eq!(
            user, 1,
            "the last event must carry its own transaction's context: {attack}"
        );
    }
}
