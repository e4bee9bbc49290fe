//! Workspace settings (one row, id 1).

use crate::row::*;
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::Invalid;
use dealflow_core::currency::Currency;
use dealflow_core::model::{Role, Settings, SettingsPatch};
use dealflow_core::time::TimeZone;
use dealflow_core::validate::required_text;
use sqlx::any::AnyRow;

pub(crate) async fn insert_default(tx: &mut Tx) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO settings (id, name, time_zone, base_currency, exchange_rates, working_days, require_lost_reason, updated_at, version)
         VALUES (1, 'My company', 'UTC', 'USD', '{}', '[1,2,3,4,5]', 1, $1, 1)",
    )
    .bind(dealflow_core::time::Timestamp::now().0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn from_row(r: &AnyRow) -> R<Settings> {
    Ok(Settings {
        name: text(r, "name")?,
        // Parsed once here, so every use has a valid zone; a stored name
        // that is not one (edited by hand) is an error, never a silent UTC.
        time_zone: TimeZone::parse(&text(r, "time_zone")?)
            .map_err(|e| sqlx::Error::Decode(format!("settings.time_zone: {e}").into()))?,
        base_currency: Currency::parse(&text(r, "base_currency")?).map_err(|e| sqlx::Error::Decode(e.into()))?,
        exchange_rates: json(r, "exchange_rates")?,
        working_days: json(r, "working_days")?,
        require_lost_reason: bool_(r, "require_lost_reason")?,
        override_roles: json(r, "override_roles")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
    })
}

pub(crate) async fn load(tx: &mut Tx) -> Result<Settings, StoreError> {
    let r = sqlx::query("SELECT * FROM settings WHERE id = 1").fetch_one(&mut **tx).await?;
    Ok(from_row(&r)?)
}

impl Store {
    pub async fn settings(&self) -> Result<Settings, StoreError> {
        let r = sqlx::query("SELECT * FROM settings WHERE id = 1").fetch_one(self.pool()).await?;
        Ok(from_row(&r)?)
    }

    pub async fn update_settings(&self, actor: &Actor, p: SettingsPatch) -> Result<Settings, StoreError> {
        let mut tx = self.write().await?;
        let mut s = load(&mut tx).await?;
        let before = s.clone();
        crate::records::check_version(s.version, p.version)?;
        let mut errs = Invalid::new();
        if let Some(n) = &p.name
            && let Some(n) = errs.take(required_text("name", n, 200))
        {
            s.name = n;
        }
        if let Some(tz) = &p.time_zone {
            match TimeZone::parse(tz) {
                Ok(tz) => s.time_zone = tz,
                Err(e) => errs.add("time_zone", e),
            }
        }
        if let Some(c) = p.base_currency {
            s.base_currency = c;
        }
        if let Some(rates) = p.exchange_rates {
            for (code, rate) in &rates {
                if let Err(e) = Currency::parse(code) {
                    errs.add(format!("exchange_rates.{code}"), e);
                } else if !(rate.is_finite() && *rate > 0.0) {
                    errs.add(format!("exchange_rates.{code}"), "must be a positive number");
                }
            }
            s.exchange_rates = rates.into_iter().map(|(k, v)| (k.to_ascii_uppercase(), v)).collect();
        }
        if let Some(mut days) = p.working_days {
            days.sort_unstable();
            days.dedup();
            if days.iter().any(|d| !(1..=7).contains(d)) {
                errs.add("working_days", "use ISO weekday numbers 1 (Monday) to 7 (Sunday)");
            }
            s.working_days = days;
        }
        if let Some(r) = p.require_lost_reason {
            s.require_lost_reason = r;
        }
        if let Some(roles) = &p.override_roles {
            s.override_roles = override_roles(roles, &mut errs);
        }
        errs.into_result()?;
        sqlx::query(
            "UPDATE settings SET name = $1, time_zone = $2, base_currency = $3, exchange_rates = $4,
             working_days = $5, require_lost_reason = $6, updated_at = $7, version = version + 1 WHERE id = 1",
        )
        .bind(s.name.clone())
        .bind(s.time_zone.name().to_string())
        .bind(s.base_currency.as_str().to_string())
        .bind(serde_json::to_string(&s.exchange_rates).unwrap_or_else(|_| "{}".into()))
        .bind(serde_json::to_string(&s.working_days).unwrap_or_else(|_| "[]".into()))
        .bind(b(s.require_lost_reason))
        .bind(actor.now.0)
        .execute(&mut *tx)
        .await?;
        if p.override_roles.is_some() {
            // Its own statement, so the playbook rules stay apart from the
            // other settings' columns.
            sqlx::query("UPDATE settings SET override_roles = $1 WHERE id = 1")
                .bind(serde_json::to_string(&s.override_roles).unwrap_or_else(|_| "[]".into()))
                .execute(&mut *tx)
                .await?;
        }
        let out = load(&mut tx).await?;
        crate::audit::updated(&mut tx, actor, "settings", 1, &before, &out).await?;
        tx.commit().await?;
        Ok(out)
    }
}

/// The roles named in `override_roles`, each once, in the matrix's order;
/// an unknown name is an error naming it.
fn override_roles(names: &[String], errs: &mut Invalid) -> Vec<Role> {
    let mut roles = Vec::new();
    for n in names {
        match Role::parse(n) {
            Ok(r) => roles.push(r),
            Err(e) => errs.add("override_roles", format!("{e}; name the roles that may override")),
        }
    }
    Role::ALL.iter().copied().filter(|r| roles.contains(r)).collect()
}
