//! The results library: each activity's documents (linked or stored), and the published
//! results of every activity, searchable.

use crate::App;
use crate::error::{AppError, AppResult};
use consult_core::{Actor, Consultation, ConsultationId, Document, DocumentLink, Feedback, Status, Upload};
use consult_store::{ConsultationFilter, Cursor, Order, PageRequest, Reader};
use uuid::Uuid;

/// A document's stored content, or where a linked one lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentContent {
    /// Elsewhere: send the reader there.
    Link(String),
    /// Stored here.
    Stored {
        /// Its media type.
        media_type: String,
        /// Its bytes.
        bytes: Vec<u8>,
    },
}

/// One activity in the results library, with its published feedback and documents.
#[derive(Debug, Clone)]
pub struct LibraryEntry {
    /// The activity.
    pub consultation: Consultation,
    /// Its feedback, if published.
    pub feedback: Option<Feedback>,
    /// Its documents.
    pub documents: Vec<Document>,
}

/// A page of the library.
#[derive(Debug, Clone)]
pub struct LibraryPage {
    /// The entries.
    pub entries: Vec<LibraryEntry>,
    /// Where the next page starts.
    pub next: Option<Cursor>,
}

impl App {
    /// Links a document to an activity's results.
    pub async fn link_document(&self, actor: &Actor, id: ConsultationId, input: DocumentLink) -> AppResult<Document> {
        let c = self.writable_consultation(actor, id).await?;
        let doc = Document::link(Uuid::now_v7(), c.id, input, &actor.name, self.now())?;
        self.store.insert_document(&doc, None, actor).await?;
        Ok(doc)
    }

    /// Stores a document (up to `max_bytes`) with an activity's results.
    pub async fn store_document(
        &self,
        actor: &Actor,
        id: ConsultationId,
        upload: Upload<'_>,
        content: &[u8],
        max_bytes: usize,
    ) -> AppResult<Document> {
        let c = self.writable_consultation(actor, id).await?;
        let doc = Document::stored(Uuid::now_v7(), c.id, upload, max_bytes, &actor.name, self.now())?;
        self.store.insert_document(&doc, Some(content), actor).await?;
        Ok(doc)
    }

    /// The documents of an activity the caller may read.
    pub async fn documents(&self, caller: Option<&Actor>, id: ConsultationId) -> AppResult<Vec<Document>> {
        let c = self.readable_consultation(caller, id).await?;
        crate::consultations::check_shared(&c, caller)?;
        Ok(self.store.documents(&[c.id]).await?.remove(&c.id).unwrap_or_default())
    }

    /// A document of an activity the caller may read.
    pub async fn document(&self, caller: Option<&Actor>, id: Uuid) -> AppResult<Document> {
        let not_found = || AppError::NotFound(format!("no document `{id}`"));
        let doc = self.store.document(id).await?.ok_or_else(not_found)?;
        let c = self
            .readable_consultation(caller, doc.consultation_id)
            .await
            .map_err(|e| match e {
                AppError::NotFound(_) => not_found(),
                other => other,
            })?;
        crate::consultations::check_shared(&c, caller)?;
        Ok(doc)
    }

    /// A document and its content (or where it is linked to).
    pub async fn document_content(&self, caller: Option<&Actor>, id: Uuid) -> AppResult<(Document, DocumentContent)> {
        let doc = self.document(caller, id).await?;
        let content = match &doc.source {
            consult_core::DocumentSource::Link { url } => DocumentContent::Link(url.clone()),
            consult_core::DocumentSource::Stored { media_type, .. } => DocumentContent::Stored {
                media_type: media_type.clone(),
                bytes: self
                    .store
                    .document_content(doc.id)
                    .await?
                    .ok_or_else(|| AppError::NotFound(format!("no document `{id}`")))?,
            },
        };
        Ok((doc, content))
    }

    /// Removes a document of an activity `actor` may change.
    pub async fn delete_document(&self, actor: &Actor, id: Uuid) -> AppResult<()> {
        let doc = self.document(Some(actor), id).await?;
        self.writable_consultation(actor, doc.consultation_id).await?;
        Ok(self.store.delete_document(&doc, actor, self.now()).await?)
    }

    /// A page of the results library: published activities whose results are out, matching
    /// `filter` (its statuses and order are the library's own), with their published feedback
    /// and documents.
    pub async fn library(&self, filter: &ConsultationFilter, page: &PageRequest) -> AppResult<LibraryPage> {
        let filter = ConsultationFilter {
            statuses: vec![Status::ResultsPublished, Status::Evaluated],
            order: Order::ByOpening,
            ..filter.clone()
        };
        let today = self.today();
        let found = self
            .store
            .list_consultations(&filter, &Reader::Public, today, page)
            .await?;
        let chosen: Vec<Consultation> = found
            .items
            .into_iter()
            .filter(|c| matches!(c.status_on(today), Status::ResultsPublished | Status::Evaluated))
            .collect();
        let ids: Vec<ConsultationId> = chosen.iter().map(|c| c.id).collect();
        let mut feedback = self.store.feedback(&ids).await?;
        let mut documents = self.store.documents(&ids).await?;
        let entries = chosen
            .into_iter()
            .map(|c| LibraryEntry {
                feedback: feedback.remove(&c.id).filter(|f| f.published_on.is_some()),
                // The library is public: documents only of activities shared with everyone.
                documents: documents
                    .remove(&c.id)
                    .filter(|_| c.results_shared_with(None))
                    .unwrap_or_default(),
                consultation: c,
            })
            .collect();
        Ok(LibraryPage {
            entries,
            next: found.next,
        })
    }
}
